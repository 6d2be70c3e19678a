//! `torch.optim.Adam` and `torch.optim.RMSprop` with `weight_decay` (L2 added to the
//! gradient) on the loss of `tests/optim.rs`.
//!
//! Produced by `tools/pytorch_reference/weight_decay.py` with torch 2.15.0+cu132 in
//! float64. Do not edit by hand: regenerate with
//! `python tools/pytorch_reference/weight_decay.py > crates/nabla-nn/tests/reference/torch_weight_decay.rs`.

/// torch.optim.Adam(lr=0.1, weight_decay=0.1): w (flattened) then b after step 1.
pub const ADAM_DECAY_STEP_1: [f64; 8] = [
    0.4000000021052631,
    -0.9000000008333333,
    1.4000000002684563,
    1.90000000012987,
    -0.3499999972173914,
    0.6500000020125786,
    9.891196889322273e-10,
    -0.10000000049309667,
];

/// torch.optim.Adam(lr=0.1, weight_decay=0.1): w (flattened) then b after step 3.
pub const ADAM_DECAY_STEP_3: [f64; 8] = [
    0.20240873833509826,
    -0.7057150153922904,
    1.2034461037343558,
    1.7027835934039617,
    -0.5477584028250487,
    0.4598886536298756,
    -0.19988958262537426,
    0.09992742576146961,
];

/// torch.optim.RMSprop(lr=0.01, weight_decay=0.1): w (flattened) then b after step 1.
pub const RMSPROP_DECAY_STEP_1: [f64; 8] = [
    0.4000000210526272,
    -0.9000000083333327,
    1.4000000026845638,
    1.9000000012987013,
    -0.34999997217392076,
    0.6500000201257822,
    9.891195903999339e-09,
    -0.10000000493096628,
];

/// torch.optim.RMSprop(lr=0.01, weight_decay=0.1): w (flattened) then b after step 3.
pub const RMSPROP_DECAY_STEP_3: [f64; 8] = [
    0.2835817341761949,
    -0.7931067753448668,
    1.2867383878233387,
    1.7845551132345696,
    -0.46818543461447526,
    0.5523779538001593,
    -0.12802960769579738,
    0.028299584667139263,
];
