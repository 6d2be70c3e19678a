"""The modules of ``nabla.nn``."""

from .container import ModuleDict, ModuleList, Sequential
from .layers import (
    GELU, AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d,
    ConvTranspose2d, Dropout, Dropout2d, Embedding, Flatten, GroupNorm, Identity, LayerNorm, LeakyReLU,
    Linear, LogSoftmax, MaxPool2d, ReLU, Sigmoid, Softmax, Tanh,
)
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d",
    "Conv1d", "Conv2d", "ConvTranspose2d", "CrossEntropyLoss", "Dropout", "Dropout2d",
    "Embedding", "Flatten", "GELU", "GroupNorm", "GRU", "GRUCell", "Identity", "LSTM", "LSTMCell",
    "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module",
    "ModuleDict", "ModuleList", "NLLLoss", "RNN", "RNNBase", "RNNCell", "RNNCellBase", "ReLU",
    "Sequential", "Sigmoid", "Softmax", "Tanh",
]
