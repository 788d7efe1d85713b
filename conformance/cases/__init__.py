"""Seeded input builders, one module per family: every case the multi-step checks feed a
student's code (models, optim, gradchecker, init, appendix, training, autograd). Nothing here
imports a judge; each case records the call that rebuilds it under ``"recipe"``."""
