//! Initialisers: PyTorch's gains and fans, the statistics of large draws against the formulas,
//! and reproducibility by seed.

use nabla_core::{DType, Generator, Tensor};
use nabla_nn::init::{Activation, FanMode, Init, fans, gain};

/// Shape of the draws: 200 000 values, fan_in 500 and fan_out 400.
const SHAPE: [usize; 2] = [400, 500];

fn draw(init: Init) -> Vec<f64> {
    init.tensor(&SHAPE, DType::F64, &mut Generator::new(42))
        .to_f64_vec()
}

fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// The sample mean is within 0.02σ of `mean` (about 9 standard errors at this size) and the
/// sample standard deviation within 2% of `std`.
#[track_caller]
fn assert_moments(values: &[f64], mean: f64, std: f64) {
    let (m, s) = mean_std(values);
    assert!((m - mean).abs() < 0.02 * std, "mean {m}, expected {mean}");
    assert!((s / std - 1.0).abs() < 0.02, "std {s}, expected {std}");
}

#[track_caller]
fn assert_within(values: &[f64], low: f64, high: f64) {
    assert!(values.iter().all(|&v| (low..=high).contains(&v)));
}

#[test]
fn gains_are_pytorchs() {
    assert_eq!(gain(Activation::Linear), 1.0);
    assert_eq!(gain(Activation::Sigmoid), 1.0);
    assert_eq!(gain(Activation::Tanh), 5.0 / 3.0);
    assert_eq!(gain(Activation::Relu), 2f64.sqrt());
    assert_eq!(gain(Activation::LeakyRelu(0.2)), (2.0f64 / 1.04).sqrt());
    assert_eq!(gain(Activation::Selu), 0.75);
}

#[test]
fn fans_follow_pytorch_for_linear_and_conv_weights() {
    assert_eq!(fans(&[100, 784]).unwrap(), (784, 100));
    assert_eq!(fans(&[16, 8, 3, 3]).unwrap(), (72, 144));
    assert_eq!(
        fans(&[10]).unwrap_err().to_string(),
        "init: fan in and fan out need a weight of at least 2 dims, got shape [10]"
    );
}

/// A conv weight `[out, in/groups, kh, kw]` is scaled by `in/groups·kh·kw` (fan in) and
/// `out·kh·kw` (fan out), as `torch.nn.init` does: here 400 and 1600.
#[test]
fn kaiming_and_xavier_scale_conv_weights_by_their_receptive_field() {
    let shape = [64, 16, 5, 5];
    assert_eq!(fans(&shape).unwrap(), (400, 1600));
    let draw = |init: Init| {
        init.tensor(&shape, DType::F64, &mut Generator::new(3))
            .to_f64_vec()
    };
    let he = Init::KaimingNormal {
        mode: FanMode::FanIn,
        activation: Activation::Relu,
    };
    assert_moments(&draw(he), 0.0, 2f64.sqrt() / 20.0);
    assert_moments(
        &draw(Init::XavierNormal { gain: 1.0 }),
        0.0,
        (2.0f64 / 2000.0).sqrt(),
    );
    let bound = 1.0 / 20.0;
    let default = draw(Init::linear_default());
    assert_within(&default, -bound, bound);
    assert_moments(&default, 0.0, bound / 3f64.sqrt());
}

#[test]
fn xavier_uniform_and_normal() {
    let bound = (6.0f64 / 900.0).sqrt();
    let values = draw(Init::XavierUniform { gain: 1.0 });
    assert_within(&values, -bound, bound);
    assert_moments(&values, 0.0, bound / 3f64.sqrt());
    let tanh = gain(Activation::Tanh);
    let values = draw(Init::XavierNormal { gain: tanh });
    assert_moments(&values, 0.0, tanh * (2.0f64 / 900.0).sqrt());
}

#[test]
fn kaiming_uniform_and_normal_in_both_modes() {
    let relu = gain(Activation::Relu);
    let bound = relu * (3.0f64 / 500.0).sqrt();
    let values = draw(Init::KaimingUniform {
        mode: FanMode::FanIn,
        activation: Activation::Relu,
    });
    assert_within(&values, -bound, bound);
    assert_moments(&values, 0.0, bound / 3f64.sqrt());
    let values = draw(Init::KaimingUniform {
        mode: FanMode::FanOut,
        activation: Activation::Relu,
    });
    assert_moments(&values, 0.0, relu / 400f64.sqrt());
    let leaky = Activation::LeakyRelu(0.2);
    let values = draw(Init::KaimingNormal {
        mode: FanMode::FanOut,
        activation: leaky,
    });
    assert_moments(&values, 0.0, gain(leaky) / 400f64.sqrt());
    let values = draw(Init::KaimingNormal {
        mode: FanMode::FanIn,
        activation: Activation::Linear,
    });
    assert_moments(&values, 0.0, 1.0 / 500f64.sqrt());
}

#[test]
fn linear_default_is_uniform_over_one_over_root_fan_in() {
    let Init::KaimingUniform { mode, activation } = Init::linear_default() else {
        panic!("PyTorch's Linear initialisation is Kaiming uniform");
    };
    assert_eq!(mode, FanMode::FanIn);
    let bound = gain(activation) * (3.0f64 / 500.0).sqrt();
    assert!((bound - 1.0 / 500f64.sqrt()).abs() < 1e-15);
}

#[test]
fn plain_normal_uniform_zeros_and_ones() {
    assert_moments(
        &draw(Init::Normal {
            mean: 2.0,
            std: 0.5,
        }),
        2.0,
        0.5,
    );
    let values = draw(Init::Uniform {
        low: -1.0,
        high: 3.0,
    });
    assert_within(&values, -1.0, 3.0);
    assert_moments(&values, 1.0, 4.0 / 12f64.sqrt());
    assert!(draw(Init::Zeros).iter().all(|&v| v == 0.0));
    assert!(draw(Init::Ones).iter().all(|&v| v == 1.0));
}

#[test]
fn draws_are_reproducible_by_seed() {
    let init = Init::XavierNormal { gain: 1.0 };
    let with_seed = |seed| init.tensor(&[8, 4], DType::F32, &mut Generator::new(seed));
    let a = with_seed(7);
    assert_eq!(a.dtype(), DType::F32);
    assert_eq!(a.to_vec::<f32>(), with_seed(7).to_vec::<f32>());
    assert_ne!(a.to_vec::<f32>(), with_seed(8).to_vec::<f32>());
}

#[test]
fn invalid_requests_are_errors() {
    let mut rng = Generator::new(0);
    let mut message = |init: Init, shape: &[usize], dtype: DType| {
        init.try_tensor(shape, dtype, &mut rng)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        message(Init::Zeros, &[2, 2], DType::I64),
        "init: weights must be f32 or f64, not i64"
    );
    assert_eq!(
        message(Init::XavierUniform { gain: 1.0 }, &[3], DType::F32),
        "init: fan in and fan out need a weight of at least 2 dims, got shape [3]"
    );
    assert_eq!(
        message(Init::XavierUniform { gain: 1.0 }, &[3, 0], DType::F32),
        "init: cannot scale by the fans of an empty weight of shape [3, 0]"
    );
    assert_eq!(
        message(
            Init::Normal {
                mean: 0.0,
                std: -1.0
            },
            &[3],
            DType::F32
        ),
        "init: normal std must be non-negative, got -1"
    );
    assert_eq!(
        message(
            Init::Uniform {
                low: 1.0,
                high: 0.0
            },
            &[3],
            DType::F32
        ),
        "init: uniform bounds must satisfy low <= high, got [1, 0)"
    );
    assert_eq!(
        Init::Uniform {
            low: 1.0,
            high: 1.0
        }
        .tensor(&[2], DType::F64, &mut Generator::new(0))
        .to_vec::<f64>(),
        [1.0, 1.0]
    );
    let empty: Tensor = Init::Ones.tensor(&[0], DType::F32, &mut Generator::new(0));
    assert_eq!(empty.shape(), &[0]);
    // A weight larger than memory is an error naming its size, not an attempted allocation.
    for init in [
        Init::linear_default(),
        Init::Zeros,
        Init::Normal {
            mean: 0.0,
            std: 1.0,
        },
    ] {
        let text = message(init, &[1_000_000_000, 784], DType::F32);
        assert!(
            text.contains(
                "shape [1000000000, 784] of f32 needs 2.9 TiB, more than this machine's "
            ),
            "{text}"
        );
    }
}
