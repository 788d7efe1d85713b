import numpy as np


class Convolution:
    def __init__(self, filters, kernel, in_depth, stride=1, pad=0):
        scale = np.sqrt(2.0 / (in_depth * kernel * kernel))
        self.kernel = np.random.randn(kernel, kernel, in_depth, filters) * scale
        self.offset = np.zeros(filters)
        self.stride = stride
        self.pad = pad

    def fprop(self, images):
        s, p = self.stride, self.pad
        kh, kw, _, _ = self.kernel.shape
        self.padded = np.pad(images, ((0, 0), (0, 0), (p, p), (p, p)))
        self.in_shape = images.shape
        n, _, h, w = self.padded.shape
        rows, cols = (h - kh) // s + 1, (w - kw) // s + 1
        result = np.empty((n, self.kernel.shape[3], rows, cols))
        for r in range(rows):
            for c in range(cols):
                patch = self.padded[:, :, r * s:r * s + kh, c * s:c * s + kw]
                result[:, :, r, c] = np.einsum("nchw,hwcf->nf", patch, self.kernel) + self.offset
        return result

    def bprop(self, grad_out):
        s, p = self.stride, self.pad
        kh, kw, _, _ = self.kernel.shape
        self.kernel_grad = np.zeros_like(self.kernel)
        self.offset_grad = grad_out.sum(axis=(0, 2, 3))
        grad_padded = np.zeros_like(self.padded)
        for r in range(grad_out.shape[2]):
            for c in range(grad_out.shape[3]):
                patch = self.padded[:, :, r * s:r * s + kh, c * s:c * s + kw]
                g = grad_out[:, :, r, c]
                self.kernel_grad += np.einsum("nchw,nf->hwcf", patch, g)
                grad_padded[:, :, r * s:r * s + kh, c * s:c * s + kw] += np.einsum("hwcf,nf->nchw", self.kernel, g)
        h, w = self.in_shape[2], self.in_shape[3]
        return grad_padded[:, :, p:p + h, p:p + w]
