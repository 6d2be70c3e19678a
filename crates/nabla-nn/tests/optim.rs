//! Optimisers against PyTorch's `torch.optim` (Momentum against hand computation), state
//! save/restore, and argument checking.
//!
//! Every reference run uses two parameters and the loss
//! `L = ¼Σw⁴ + Σ(c_w ⊙ w) + ¼Σb⁴ + Σ(c_b ⊙ b)` (gradient `p³ + c`), produced with:
//!
//! ```python
//! import torch
//! torch.set_default_dtype(torch.float64)
//! W0 = [[0.5, -1.0, 1.5], [2.0, -0.25, 0.75]]; B0 = [0.1, -0.2]
//! CW = [[0.3, -0.1, 0.2], [-0.5, 0.4, 0.0]]; CB = [1.0, -2.0]
//! def run(make, steps, dtype=torch.float64):
//!     w = torch.tensor(W0, dtype=dtype, requires_grad=True)
//!     b = torch.tensor(B0, dtype=dtype, requires_grad=True)
//!     cw = torch.tensor(CW, dtype=dtype); cb = torch.tensor(CB, dtype=dtype)
//!     opt = make([w, b]); out = []
//!     for _ in range(steps):
//!         opt.zero_grad()
//!         loss = 0.25 * (w**4).sum() + (cw * w).sum() + 0.25 * (b**4).sum() + (cb * b).sum()
//!         loss.backward(); opt.step()
//!         out.append((w.detach().flatten().tolist(), b.detach().tolist()))
//!     return out
//! ```

#[path = "reference/torch_sgd.rs"]
mod torch_sgd;
#[path = "reference/torch_weight_decay.rs"]
mod torch_weight_decay;

use nabla_core::{DType, Tensor};
use nabla_nn::optim::{
    AdaGrad, Adam, AdamW, Momentum, Nesterov, Optim, Optimizer, RmsProp, Sgd, UpdateRule,
};

const W0: [f64; 6] = [0.5, -1.0, 1.5, 2.0, -0.25, 0.75];
const B0: [f64; 2] = [0.1, -0.2];
const CW: [f64; 6] = [0.3, -0.1, 0.2, -0.5, 0.4, 0.0];
const CB: [f64; 2] = [1.0, -2.0];

/// Parameter values (w flattened, then b) after each step.
type Trace = Vec<Vec<f64>>;

fn make_params(w: &[f64], b: &[f64], dtype: DType) -> Vec<(String, Tensor)> {
    let w = Tensor::from_vec(w.to_vec(), &[2, 3])
        .to_dtype(dtype)
        .requires_grad();
    let b = Tensor::from_vec(b.to_vec(), &[2])
        .to_dtype(dtype)
        .requires_grad();
    vec![("layer.weight".into(), w), ("layer.bias".into(), b)]
}

fn backward(params: &[(String, Tensor)]) {
    let dtype = params[0].1.dtype();
    let cw = Tensor::from_vec(CW.to_vec(), &[2, 3]).to_dtype(dtype);
    let cb = Tensor::from_vec(CB.to_vec(), &[2]).to_dtype(dtype);
    let (w, b) = (&params[0].1, &params[1].1);
    let loss =
        w.powf(4.0).sum() * 0.25 + (w * &cw).sum() + b.powf(4.0).sum() * 0.25 + (b * &cb).sum();
    loss.backward();
}

fn values(params: &[(String, Tensor)]) -> Vec<f64> {
    params.iter().flat_map(|(_, p)| p.to_f64_vec()).collect()
}

fn run_steps(opt: &mut dyn Optimizer, params: &[(String, Tensor)], steps: usize) -> Trace {
    (0..steps)
        .map(|_| {
            opt.zero_grad();
            backward(params);
            opt.step().unwrap();
            values(params)
        })
        .collect()
}

fn run<R: UpdateRule>(rule: R, lr: f64, dtype: DType) -> Trace {
    run_decayed(rule, lr, R::DEFAULT_WEIGHT_DECAY, dtype)
}

/// Three steps of `rule` with the optimiser's weight decay set to `weight_decay`.
fn run_decayed<R: UpdateRule>(rule: R, lr: f64, weight_decay: f64, dtype: DType) -> Trace {
    let params = make_params(&W0, &B0, dtype);
    let mut opt = Optim::new(params.clone(), rule, lr)
        .unwrap()
        .with_weight_decay(weight_decay)
        .unwrap();
    run_steps(&mut opt, &params, 3)
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "element {i}: got {g}, want {w} (tolerance {tol})"
        );
    }
}

/// Checks the values after the first and the third step against the reference.
fn assert_trace(trace: &Trace, after_1: &[f64], after_3: &[f64]) {
    assert_close(&trace[0], after_1, 1e-13);
    assert_close(&trace[2], after_3, 1e-13);
}

#[test]
fn sgd_with_weight_decay_matches_torch() {
    // torch.optim.SGD(p, lr=0.1, weight_decay=0.01)
    assert_trace(
        &run_decayed(Sgd::new(), 0.1, 0.01, DType::F64),
        &[
            0.457,
            -0.889,
            1.141,
            1.248,
            -0.2881875,
            0.7070625,
            -0.00019999999999997797,
            0.0009999999999999788,
        ],
        &[
            0.3793305037959184,
            -0.7443212874075099,
            0.8587042511167207,
            1.0173089549769672,
            -0.36173148400989363,
            0.6401236519386796,
            -0.1999989996008044,
            0.3999859529215517,
        ],
    );
}

#[test]
fn momentum_matches_hand_computation() {
    // By hand, for each element: g = p³ + c; v = 0.9·v − 0.1·g; p += v (v starts at 0).
    let trace = run(Momentum::new(), 0.1, DType::F64);
    assert_trace(
        &trace,
        &[
            0.4575,
            -0.89,
            1.1425,
            1.25,
            -0.2884375,
            0.7078125,
            -9.999999999998899e-05,
            0.0007999999999999952,
        ],
        &[
            0.27415795408831795,
            -0.503088652261919,
            0.162157456432784,
            -0.26652712821960445,
            -0.4609160155727924,
            0.542765243786031,
            -0.4605830402414252,
            0.9186146897681751,
        ],
    );
    // torch.optim.SGD(p, lr=0.1, momentum=0.9) follows the same path at a constant rate.
    assert_close(&trace[2], &torch_sgd::SGD_MOMENTUM_STEP_3, 1e-13);
}

#[test]
fn nesterov_matches_torch() {
    // torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)
    assert_trace(
        &run(Nesterov::new(), 0.1, DType::F64),
        &[
            0.41925,
            -0.7909999999999999,
            0.8207499999999999,
            0.575,
            -0.32303125,
            0.66984375,
            -0.09018999999999999,
            0.18152000000000001,
        ],
        &torch_sgd::SGD_NESTEROV_STEP_3,
    );
}

#[test]
fn adagrad_matches_torch_with_its_eps() {
    // torch.optim.Adagrad(p, lr=0.1, eps=1e-10)
    assert_trace(
        &run(AdaGrad::new().eps(1e-10), 0.1, DType::F64),
        &[
            0.4000000000235294,
            -0.9000000000090909,
            1.4000000000027972,
            1.9000000000013333,
            -0.34999999997398373,
            0.6500000000237037,
            9.990008820182084e-12,
            -0.10000000000498009,
        ],
        &[
            0.2832943729807526,
            -0.7949057500400672,
            1.2876641644038453,
            1.7852957785040127,
            -0.4709507744478477,
            0.5567686712441335,
            -0.12837752324481552,
            0.028236057400545127,
        ],
    );
}

#[test]
fn rmsprop_matches_torch() {
    // torch.optim.RMSprop(p, lr=0.01)
    assert_trace(
        &run(RmsProp::new(), 0.01, DType::F64),
        &[
            0.4000000235294063,
            -0.9000000090909083,
            1.4000000027972028,
            1.9000000013333334,
            -0.34999997398374655,
            0.6500000237036981,
            9.9900090283489e-09,
            -0.10000000498007948,
        ],
        &[
            0.2828130017631232,
            -0.7944387892927421,
            1.2871904004145724,
            1.784821262928352,
            -0.4714170072289274,
            0.5563263064656153,
            -0.12884491314570087,
            0.028704014183721885,
        ],
    );
}

#[test]
fn adam_matches_torch() {
    // torch.optim.Adam(p, lr=0.1)
    assert_trace(
        &run(Adam::new(), 0.1, DType::F64),
        &[
            0.40000000235294114,
            -0.9000000009090909,
            1.4000000002797204,
            1.9000000001333333,
            -0.34999999739837406,
            0.6500000023703704,
            9.99000979162723e-10,
            -0.10000000049800797,
        ],
        &[
            0.20218553699225655,
            -0.7062550679347012,
            1.203593035717936,
            1.7028629164660152,
            -0.5485998492854095,
            0.46197325818450874,
            -0.1999904018247048,
            0.09997690205092084,
        ],
    );
}

#[test]
fn adam_in_f32_matches_torch_in_f32() {
    // run(lambda p: torch.optim.Adam(p, lr=0.1), 3, torch.float32)[2]
    let trace = run(Adam::new(), 0.1, DType::F32);
    assert_close(
        &trace[2],
        &[
            0.20218554139137268,
            -0.7062550187110901,
            1.2035930156707764,
            1.7028628587722778,
            -0.5485998392105103,
            0.4619732201099396,
            -0.1999903917312622,
            0.09997688233852386,
        ],
        1e-6,
    );
}

/// The optimiser's weight decay is L2 added to the gradient for Adam and RMSprop, as PyTorch's
/// `weight_decay` (AdamW's is decoupled: `adamw_matches_torch`).
#[test]
fn adam_and_rmsprop_weight_decay_match_torch() {
    use torch_weight_decay::*;
    let adam = run_decayed(Adam::new(), 0.1, 0.1, DType::F64);
    assert_trace(&adam, &ADAM_DECAY_STEP_1, &ADAM_DECAY_STEP_3);
    let rmsprop = run_decayed(RmsProp::new(), 0.01, 0.1, DType::F64);
    assert_trace(&rmsprop, &RMSPROP_DECAY_STEP_1, &RMSPROP_DECAY_STEP_3);
}

#[test]
fn a_negative_or_nan_weight_decay_is_refused() {
    for bad in [-0.1, f64::NAN] {
        let params = make_params(&W0, &B0, DType::F64);
        let err = Optim::new(params, Adam::new(), 0.1)
            .unwrap()
            .with_weight_decay(bad)
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!("Adam: weight decay must lie in [0, inf], got {bad}")
        );
    }
}

#[test]
fn adamw_matches_torch() {
    // torch.optim.AdamW(p, lr=0.1)  (weight_decay defaults to 0.01)
    assert_trace(
        &run(AdamW::new(), 0.1, DType::F64),
        &[
            0.39950000235294114,
            -0.8990000009090909,
            1.3985000002797203,
            1.8980000001333333,
            -0.34974999739837404,
            0.6492500023703703,
            -9.99990009990237e-05,
            -0.09980000049800797,
        ],
        &[
            0.2009965392745002,
            -0.703651272963577,
            1.1994762595505215,
            1.6972525103687213,
            -0.547560165571326,
            0.46016343868768106,
            -0.1999901938378347,
            0.10027640370813884,
        ],
    );
}

/// One step, save the state, rebuild parameters and optimiser from the saved values, load
/// and run two more steps: the result must equal three uninterrupted steps bit for bit.
fn assert_resume_is_exact<R: UpdateRule + Clone>(rule: R, lr: f64) {
    assert_resume_is_exact_decayed(rule, lr, R::DEFAULT_WEIGHT_DECAY);
}

/// [`assert_resume_is_exact`] with the optimiser's weight decay set to `weight_decay`.
fn assert_resume_is_exact_decayed<R: UpdateRule + Clone>(rule: R, lr: f64, weight_decay: f64) {
    let uninterrupted = run_decayed(rule.clone(), lr, weight_decay, DType::F64);

    let decayed = |o: Optim<R>| o.with_weight_decay(weight_decay).unwrap();
    let params = make_params(&W0, &B0, DType::F64);
    let mut opt = decayed(Optim::new(params.clone(), rule.clone(), lr).unwrap());
    run_steps(&mut opt, &params, 1);
    let saved = opt.state_dict();
    let now = values(&params);
    drop(opt);

    let params = make_params(&now[..6], &now[6..], DType::F64);
    let mut resumed = decayed(Optim::new(params.clone(), rule, lr).unwrap());
    resumed.load_state_dict(&saved).unwrap();
    assert_eq!(resumed.steps(), 1);
    let rest = run_steps(&mut resumed, &params, 2);
    assert_eq!(rest[1], uninterrupted[2], "{}", R::NAME);
}

#[test]
fn every_optimizer_resumes_exactly_from_its_state() {
    assert_resume_is_exact_decayed(Sgd::new(), 0.1, 0.01);
    assert_resume_is_exact_decayed(Adam::new(), 0.1, 0.1);
    assert_resume_is_exact(Momentum::new(), 0.1);
    assert_resume_is_exact(Nesterov::new(), 0.1);
    assert_resume_is_exact(AdaGrad::new(), 0.1);
    assert_resume_is_exact(RmsProp::new(), 0.01);
    assert_resume_is_exact(Adam::new(), 0.1);
    assert_resume_is_exact(AdamW::new(), 0.1);
}

fn names(state: &[(String, Tensor)]) -> Vec<&str> {
    state.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn state_dict_names_each_buffer_after_its_parameter() {
    let params = make_params(&W0, &B0, DType::F64);
    let mut opt = Optim::new(params.clone(), Adam::new(), 0.1).unwrap();
    assert_eq!(names(&opt.state_dict()), ["step"]);
    run_steps(&mut opt, &params, 2);
    let state = opt.state_dict();
    assert_eq!(
        names(&state),
        [
            "step",
            "layer.weight.step",
            "layer.weight.exp_avg",
            "layer.weight.exp_avg_sq",
            "layer.bias.step",
            "layer.bias.exp_avg",
            "layer.bias.exp_avg_sq",
        ]
    );
    assert_eq!(state[0].1.dtype(), DType::I64);
    assert_eq!(state[0].1.item::<i64>(), 2);
    assert_eq!(state[2].1.shape(), &[2, 3]);

    // The saved state is a copy: later steps do not change it.
    let before = state[2].1.to_vec::<f64>();
    run_steps(&mut opt, &params, 1);
    assert_eq!(state[2].1.to_vec::<f64>(), before);

    let momentum = Optim::new(params.clone(), Nesterov::new(), 0.1);
    let mut momentum = momentum.unwrap();
    run_steps(&mut momentum, &params, 1);
    assert!(names(&momentum.state_dict()).contains(&"layer.bias.momentum_buffer"));
}

#[test]
fn parameters_without_a_gradient_are_skipped() {
    let params = make_params(&W0, &B0, DType::F64);
    let mut opt = Optim::new(params.clone(), Adam::new(), 0.1).unwrap();
    params[1]
        .1
        .set_grad(Some(Tensor::from_vec(vec![1.0f64, 1.0], &[2])));
    opt.step().unwrap();
    assert_eq!(params[0].1.to_vec::<f64>(), W0.to_vec());
    assert_ne!(params[1].1.to_vec::<f64>(), B0.to_vec());
    assert_eq!(
        names(&opt.state_dict()),
        [
            "step",
            "layer.bias.step",
            "layer.bias.exp_avg",
            "layer.bias.exp_avg_sq"
        ]
    );
    opt.zero_grad();
    assert!(params.iter().all(|(_, p)| p.grad().is_none()));
}

#[test]
fn learning_rate_can_be_read_and_replaced_through_the_trait() {
    let params = make_params(&W0, &B0, DType::F64);
    let mut opt: Box<dyn Optimizer> =
        Box::new(Optim::new(params.clone(), AdamW::new(), 0.1).unwrap());
    assert_eq!(opt.learning_rate(), 0.1);
    opt.set_learning_rate(0.0);
    assert_eq!(opt.learning_rate(), 0.0);
    params[0]
        .1
        .set_grad(Some(Tensor::ones(&[2, 3], DType::F64)));
    opt.step().unwrap();
    // A zero rate also turns off AdamW's decay, whose factor is 1 − ηλ.
    assert_eq!(params[0].1.to_vec::<f64>(), W0.to_vec());
}

fn load_error(state: &[(String, Tensor)]) -> String {
    let params = make_params(&W0, &B0, DType::F64);
    let mut opt = Optim::new(params.clone(), Adam::new(), 0.1).unwrap();
    run_steps(&mut opt, &params, 1);
    let before = opt.state_dict();
    let err = opt.load_state_dict(state).unwrap_err().to_string();
    let after = opt.state_dict();
    assert_eq!(
        names(&after),
        names(&before),
        "a failed load must not change the state"
    );
    for ((_, a), (_, b)) in after.iter().zip(&before) {
        assert_eq!(a.to_f64_vec(), b.to_f64_vec());
    }
    err
}

#[test]
fn load_state_dict_rejects_bad_state_and_keeps_the_old_one() {
    let params = make_params(&W0, &B0, DType::F64);
    let mut opt = Optim::new(params.clone(), Adam::new(), 0.1).unwrap();
    run_steps(&mut opt, &params, 1);
    let good = opt.state_dict();

    let without = |key: &str| -> Vec<(String, Tensor)> {
        good.iter().filter(|(n, _)| n != key).cloned().collect()
    };
    assert_eq!(
        load_error(&without("step")),
        "Adam: load_state_dict: the entry \"step\" is missing"
    );
    assert_eq!(
        load_error(&without("layer.bias.exp_avg_sq")),
        "Adam: load_state_dict: \"layer.bias.exp_avg_sq\" is missing (\"layer.bias.step\" is present)"
    );

    let mut wrong_shape = good.clone();
    wrong_shape[2].1 = Tensor::zeros(&[6], DType::F64);
    assert_eq!(
        load_error(&wrong_shape),
        "Adam: load_state_dict: \"layer.weight.exp_avg\" is f64 [6] but parameter \"layer.weight\" is f64 [2, 3]"
    );

    let mut float_step = good.clone();
    float_step[0].1 = Tensor::scalar(1.0f64);
    assert_eq!(
        load_error(&float_step),
        "Adam: load_state_dict: \"step\" must be a non-negative i64 scalar, got f64 []"
    );

    let mut extra = good.clone();
    extra.push((
        "layer.weight.momentum_buffer".into(),
        Tensor::zeros(&[2, 3], DType::F64),
    ));
    assert_eq!(
        load_error(&extra),
        "Adam: load_state_dict: entries [\"layer.weight.momentum_buffer\"] match no parameter or state of this optimiser"
    );

    let mut twice = good.clone();
    twice.push(good[0].clone());
    assert_eq!(
        load_error(&twice),
        "Adam: load_state_dict: entry \"step\" appears twice"
    );
}

/// `good` with the count `key` replaced by `value`.
fn with_count(good: &[(String, Tensor)], key: &str, value: i64) -> Vec<(String, Tensor)> {
    good.iter()
        .map(|(n, t)| {
            let t = if n == key {
                Tensor::scalar(value)
            } else {
                t.clone()
            };
            (n.clone(), t)
        })
        .collect()
}

#[test]
fn step_counts_are_checked_on_load_and_never_wrap_on_save() {
    let params = make_params(&W0, &B0, DType::F64);
    let mut opt = Optim::new(params.clone(), Adam::new(), 0.1).unwrap();
    run_steps(&mut opt, &params, 2);
    let good = opt.state_dict();
    assert_eq!(
        load_error(&with_count(&good, "step", -1)),
        "Adam: load_state_dict: \"step\" must be non-negative, got -1"
    );
    assert_eq!(
        load_error(&with_count(&good, "step", 0)),
        "Adam: load_state_dict: \"layer.weight.step\" is 2 but \"step\" is 0: a parameter \
         cannot have been updated in more steps than the optimiser took"
    );

    let mut full = good.clone();
    for (name, t) in &mut full {
        if name.ends_with("step") {
            *t = Tensor::scalar(i64::MAX);
        }
    }
    let mut opt = Optim::new(params.clone(), Adam::new(), 0.1).unwrap();
    opt.load_state_dict(&full).unwrap();
    backward(&params);
    let before = values(&params);
    assert_eq!(
        opt.step().unwrap_err().to_string(),
        "Adam: step: the step count of \"layer.weight\", 9223372036854775807, has reached \
         i64::MAX, the largest a state dict can hold"
    );
    assert_eq!(values(&params), before, "a refused step moves nothing");
    // The state it holds still saves and loads.
    opt.load_state_dict(&opt.state_dict()).unwrap();
}

#[test]
fn construction_rejects_bad_parameters_and_hyper_parameters() {
    let err = |r: nabla_nn::Result<Optim<Adam>>| r.err().unwrap().to_string();
    let w = Tensor::zeros(&[2], DType::F64);
    assert_eq!(
        err(Optim::new(
            vec![("w".into(), w.clone()), ("w".into(), w.clone())],
            Adam::new(),
            0.1
        )),
        "Adam: parameter name \"w\" appears twice"
    );
    assert_eq!(
        err(Optim::new(
            vec![("i".into(), Tensor::zeros(&[2], DType::I64))],
            Adam::new(),
            0.1
        )),
        "Adam: parameter \"i\" has dtype i64; only f32 and f64 tensors can be optimised"
    );
    assert_eq!(
        err(Optim::new(
            vec![("t".into(), Tensor::zeros(&[2, 3], DType::F64).t())],
            Adam::new(),
            0.1
        )),
        "Adam: parameter \"t\" is not contiguous and cannot be updated in place"
    );
    assert_eq!(
        err(Optim::new(vec![], Adam::new(), 0.1)),
        "Adam: the parameter list is empty"
    );
    assert_eq!(
        err(Optim::new(
            vec![("w".into(), w.clone())],
            Adam::new().betas(0.9, 1.0),
            0.1
        )),
        "Adam: beta2 must lie in [0, 1), got 1"
    );
    assert_eq!(
        err(Optim::new(
            vec![("w".into(), w.clone())],
            Adam::new(),
            f64::NAN
        )),
        "Adam: learning rate must lie in [0, inf], got NaN"
    );
}

#[test]
fn a_gradient_of_the_wrong_shape_fails_before_anything_moves() {
    let params = make_params(&W0, &B0, DType::F64);
    let opt = Optim::new(params.clone(), Sgd::new(), 0.1).unwrap();
    params[0]
        .1
        .set_grad(Some(Tensor::ones(&[2, 3], DType::F64)));
    // The gradient is refused where it is assigned; the optimiser never sees it.
    assert_eq!(
        params[1]
            .1
            .try_set_grad(Some(Tensor::ones(&[3], DType::F64)))
            .unwrap_err()
            .to_string(),
        "set_grad: the assigned gradient has shape [3] and dtype f64, the tensor shape [2] and \
         dtype f64"
    );
    assert!(params[1].1.grad().is_none());
    assert_eq!(values(&params), [W0.as_slice(), B0.as_slice()].concat());
    assert_eq!(opt.steps(), 0);
}

/// `Sgd` with momentum, dampening, Nesterov and weight decay follows `torch.optim.SGD` through a
/// learning-rate change (0.1 for three steps, then 0.03), where the textbook `Momentum` does not;
/// its buffer survives a save and restore.
#[test]
fn sgd_with_momentum_matches_torch_across_a_learning_rate_change() {
    use torch_sgd::*;
    let configs: [(&str, Sgd, f64, [&[f64]; 2]); 5] = [
        (
            "momentum",
            Sgd::new().momentum(0.9),
            0.0,
            [&SGD_MOMENTUM_STEP_3, &SGD_MOMENTUM_STEP_6],
        ),
        (
            "nesterov",
            Sgd::new().momentum(0.9).nesterov(true),
            0.0,
            [&SGD_NESTEROV_STEP_3, &SGD_NESTEROV_STEP_6],
        ),
        (
            "dampening",
            Sgd::new().momentum(0.9).dampening(0.5),
            0.0,
            [&SGD_DAMPENING_STEP_3, &SGD_DAMPENING_STEP_6],
        ),
        (
            "nesterov and weight decay",
            Sgd::new().momentum(0.9).nesterov(true),
            0.01,
            [&SGD_NESTEROV_DECAY_STEP_3, &SGD_NESTEROV_DECAY_STEP_6],
        ),
        (
            "all",
            Sgd::new().momentum(0.5).dampening(0.3),
            0.05,
            [&SGD_ALL_STEP_3, &SGD_ALL_STEP_6],
        ),
    ];
    for (name, rule, decay, [after_3, after_6]) in configs {
        let decayed = |o: Optim<Sgd>| o.with_weight_decay(decay).unwrap();
        let params = make_params(&W0, &B0, DType::F64);
        let mut opt = decayed(Optim::new(params.clone(), rule.clone(), 0.1).unwrap());
        let first = run_steps(&mut opt, &params, 3);
        assert_close(&first[2], after_3, 1e-13);
        // Resume from the saved state in a fresh optimiser at the new rate.
        let state = opt.state_dict();
        assert!(
            state
                .iter()
                .any(|(k, _)| k == "layer.weight.momentum_buffer"),
            "{name}"
        );
        let mut resumed = decayed(Optim::new(params.clone(), rule, 0.1).unwrap());
        resumed.load_state_dict(&state).unwrap();
        resumed.set_learning_rate(0.03);
        let second = run_steps(&mut resumed, &params, 3);
        assert_close(&second[2], after_6, 1e-13);
    }
    // The textbook rule agrees at the constant rate and not after the change.
    let params = make_params(&W0, &B0, DType::F64);
    let mut textbook = Optim::new(params.clone(), Momentum::new(), 0.1).unwrap();
    let first = run_steps(&mut textbook, &params, 3);
    assert_close(&first[2], &SGD_MOMENTUM_STEP_3, 1e-13);
    textbook.set_learning_rate(0.03);
    let after = run_steps(&mut textbook, &params, 3).remove(2);
    let drift = after
        .iter()
        .zip(SGD_MOMENTUM_STEP_6)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!((drift - 1.08).abs() < 0.005, "textbook drift {drift}");
}

#[test]
fn sgd_refuses_nesterov_without_momentum_or_with_dampening() {
    let params = make_params(&W0, &B0, DType::F64);
    for rule in [
        Sgd::new().nesterov(true),
        Sgd::new().momentum(0.9).dampening(0.1).nesterov(true),
    ] {
        let err = Optim::new(params.clone(), rule, 0.1).err().unwrap();
        assert!(
            err.to_string()
                .starts_with("SGD: Nesterov momentum needs a momentum above 0 and no dampening"),
            "{err}"
        );
    }
    let err = Optim::new(params.clone(), Sgd::new().momentum(1.0), 0.1)
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "SGD: momentum must lie in [0, 1), got 1");
    // Without momentum SGD keeps no state, as before.
    let mut plain = Optim::new(params.clone(), Sgd::new(), 0.1).unwrap();
    run_steps(&mut plain, &params, 1);
    assert_eq!(plain.state_dict().len(), 3);
}
