"""A neural-network library written from scratch in NumPy: the lecture notes' "develop your own code for a
convolutional or eventually recurrent neural network", small enough to read in one sitting.

    from pinn.scratch import Adam, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, SoftmaxCrossEntropy

    net = Sequential([Conv2D(1, 16, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(16 * 3 * 3, 10)])
    history = net.fit(x_train, y_train, SoftmaxCrossEntropy(), Adam(net.parameters(), 1e-3), epochs=20)
    predicted = net.predict(x_test).argmax(axis=1)

Modules, one idea each: ``layers`` (the layer protocol forward/backward, Dense, activations, Dropout),
``conv`` (Conv2D by im2col, MaxPool2D, BatchNorm2D), ``recurrent`` (RNN and LSTM with backpropagation through
time), ``losses`` (softmax cross-entropy, mean squared error, L2 penalty), ``optimizers`` (SGD with
momentum, Adam), ``network`` (Sequential with fit/predict), ``gradcheck`` (finite-difference checks).
Parameter names and layouts are PyTorch's, so weights move between the two unchanged (the tests compare
every gradient with PyTorch's autograd). Images are NCHW arrays; float32 or float64 is chosen per layer
with ``dtype=``. The modules import only NumPy (SciPy for the Toeplitz matrix of ``convolution``) and
pinn's error type; PyTorch appears only in the tests that check them.
"""

from pinn.scratch.conv import BatchNorm2D, Conv2D, MaxPool2D, col2im, im2col
from pinn.scratch.layers import Dense, Dropout, Flatten, Layer, Parameter, ReLU, Sigmoid, Softmax, Standardize, Tanh
from pinn.scratch.losses import L2Penalty, Loss, MeanSquaredError, SoftmaxCrossEntropy
from pinn.scratch.network import Sequential, accuracy
from pinn.scratch.optimizers import SGD, Adam, Optimizer
from pinn.scratch.recurrent import LSTM, RNN, LastStep

__all__ = ["Adam", "BatchNorm2D", "Conv2D", "Dense", "Dropout", "Flatten", "L2Penalty", "LSTM", "LastStep", "Layer",
           "Loss", "MaxPool2D", "MeanSquaredError", "Optimizer", "Parameter", "RNN", "ReLU", "SGD", "Sequential",
           "Sigmoid", "Softmax", "SoftmaxCrossEntropy", "Standardize", "Tanh", "accuracy", "col2im", "im2col"]
