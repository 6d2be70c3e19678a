//! `torch.optim.SGD` trajectories across a learning-rate change (0.1 for steps 1-3, 0.03 for
//! steps 4-6), on the loss of `tests/optim.rs`.
//!
//! Produced by `tools/pytorch_reference/sgd_schedule.py` with torch 2.15.0+cu132 in
//! float64. Do not edit by hand: regenerate with
//! `python tools/pytorch_reference/sgd_schedule.py > crates/nabla-nn/tests/reference/torch_sgd.rs`.
//!
//! The textbook momentum rule (v = 0.9 v - lr g) differs from SGD(momentum=0.9) by at most
//! 1.4e-16 after step 3 (constant rate) and by 1.080 after step 6.

/// torch.optim.SGD(momentum=0.9): w (flattened) then b after step 3.
pub const SGD_MOMENTUM_STEP_3: [f64; 8] = [
    0.274157954088318,
    -0.5030886522619191,
    0.16215745643278415,
    -0.26652712821960456,
    -0.4609160155727923,
    0.542765243786031,
    -0.4605830402414252,
    0.9186146897681751,
];

/// torch.optim.SGD(momentum=0.9): w (flattened) then b after step 6.
pub const SGD_MOMENTUM_STEP_6: [f64; 8] = [
    0.1438231542534568,
    -0.3176547244978912,
    -0.22995249401115167,
    -0.6796876211325201,
    -0.5819845845651076,
    0.45165179776151715,
    -0.7994962535178496,
    1.445735966257866,
];

/// torch.optim.SGD(momentum=0.9, nesterov=True): w (flattened) then b after step 3.
pub const SGD_NESTEROV_STEP_3: [f64; 8] = [
    0.1896996930919795,
    -0.4026908782888989,
    0.017417364434070062,
    -0.400273128327148,
    -0.5429933940013518,
    0.4866702657814342,
    -0.6960965897452578,
    1.3391136485284314,
];

/// torch.optim.SGD(momentum=0.9, nesterov=True): w (flattened) then b after step 6.
pub const SGD_NESTEROV_STEP_6: [f64; 8] = [
    0.049625509693512766,
    -0.2527609548033036,
    -0.2827863729420319,
    -0.6015216741735562,
    -0.6572336552327936,
    0.40909162047850306,
    -0.9950555803950856,
    1.4781487119733974,
];

/// torch.optim.SGD(momentum=0.9, dampening=0.5): w (flattened) then b after step 3.
pub const SGD_DAMPENING_STEP_3: [f64; 8] = [
    0.32904091888948195,
    -0.5992707194044424,
    0.34055092461277575,
    -0.15188517825603493,
    -0.40788879143660944,
    0.5881180341032028,
    -0.3161332406414622,
    0.633052427539274,
];

/// torch.optim.SGD(momentum=0.9, dampening=0.5): w (flattened) then b after step 6.
pub const SGD_DAMPENING_STEP_6: [f64; 8] = [
    0.2496882734810604,
    -0.46445961559108956,
    0.03225190607819491,
    -0.5859148935807836,
    -0.48342457373899644,
    0.5253554482453711,
    -0.5248449411049544,
    1.0255729839278627,
];

/// torch.optim.SGD(momentum=0.9, nesterov=True, weight_decay=0.01): w (flattened) then b after step 3.
pub const SGD_NESTEROV_DECAY_STEP_3: [f64; 8] = [
    0.18650428461685215,
    -0.3976596483068464,
    0.011253265898606191,
    -0.40772166478809124,
    -0.540625811287678,
    0.4822625103294484,
    -0.6955006473777763,
    1.3378677749142094,
];

/// torch.optim.SGD(momentum=0.9, nesterov=True, weight_decay=0.01): w (flattened) then b after step 6.
pub const SGD_NESTEROV_DECAY_STEP_6: [f64; 8] = [
    0.04547438758242771,
    -0.24643591861888053,
    -0.28978341644457756,
    -0.6077915823533666,
    -0.6535872991863657,
    0.40343714479995013,
    -0.9928117282698323,
    1.4754858976563818,
];

/// torch.optim.SGD(momentum=0.5, dampening=0.3, weight_decay=0.05): w (flattened) then b after step 3.
pub const SGD_ALL_STEP_3: [f64; 8] = [
    0.35046676541273136,
    -0.6693132057803686,
    0.6235134024585869,
    0.5177547950367886,
    -0.3773831739898124,
    0.6073789327131456,
    -0.2505000117102905,
    0.5012904913773382,
];

/// torch.optim.SGD(momentum=0.5, dampening=0.3, weight_decay=0.05): w (flattened) then b after step 6.
pub const SGD_ALL_STEP_6: [f64; 8] = [
    0.3048595351410887,
    -0.6067435369505962,
    0.529573737179734,
    0.48616643415637495,
    -0.41823876286713757,
    0.5733742383444866,
    -0.3703995318640187,
    0.7285084754020607,
];
