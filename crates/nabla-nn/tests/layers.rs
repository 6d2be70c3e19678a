//! Layers against PyTorch (float64) and numerical gradients. The pinned values come from this
//! script (`det` makes the same deterministic inputs as the Rust helper below):
//!
//! ```python
//! import torch, math
//! torch.set_default_dtype(torch.float64)
//! def det(shape, k):
//!     n = math.prod(shape)
//!     return torch.tensor([math.sin(0.37*i + k) for i in range(n)]).reshape(shape)
//! F = torch.nn.functional
//! lin = torch.nn.Linear(4, 3)
//! with torch.no_grad():
//!     lin.weight.copy_(det([3,4],1.0)*0.5); lin.bias.copy_(det([3],2.0)*0.1)
//! LINEAR_Y = lin(det([2,4],3.0))
//! bn = torch.nn.BatchNorm1d(3)
//! with torch.no_grad():
//!     bn.weight.copy_(det([3],9.0)*0.5+1); bn.bias.copy_(det([3],10.0)*0.2)
//! x1 = (det([4,3],5.0)*2+1).requires_grad_()
//! BN_Y1 = bn(x1); (BN_Y1*det([4,3],8.0)).sum().backward()
//! BN_GRAD_X, BN_GRAD_W, BN_GRAD_B = x1.grad, bn.weight.grad, bn.bias.grad
//! bn(det([4,3],6.0)*3-0.5)
//! BN_RUNNING_MEAN, BN_RUNNING_VAR = bn.running_mean, bn.running_var  # num_batches_tracked 2
//! bn.eval(); BN_EVAL_Y = bn(det([2,3],7.0))
//! ln = torch.nn.LayerNorm([3,4])
//! with torch.no_grad():
//!     ln.weight.copy_(det([3,4],12.0)*0.5+1); ln.bias.copy_(det([3,4],13.0)*0.1)
//! x = det([2,3,4],11.0).requires_grad_()
//! LN_Y = ln(x); (LN_Y*det([2,3,4],14.0)).sum().backward()
//! LN_GRAD_X, LN_GRAD_W, LN_GRAD_B = x.grad, ln.weight.grad, ln.bias.grad
//! a = det([6],15.0)*3
//! RELU, LEAKY, SIGMOID = F.relu(a), F.leaky_relu(a, 0.1), torch.sigmoid(a)
//! TANH, GELU, SOFTMAX = torch.tanh(a), F.gelu(a), F.softmax(a.reshape(2,3), dim=-1)
//! mlp = torch.nn.Sequential(torch.nn.Linear(4,3), torch.nn.ReLU(), torch.nn.Linear(3,2))
//! with torch.no_grad():
//!     mlp[0].weight.copy_(det([3,4],1.0)*0.5); mlp[0].bias.copy_(det([3],2.0)*0.1)
//!     mlp[2].weight.copy_(det([2,3],16.0)*0.5); mlp[2].bias.copy_(det([2],17.0)*0.1)
//! MLP_Y = mlp(det([5,4],18.0))
//! ```

mod common;

use common::{assert_close, assert_gradcheck, det};
use nabla_core::{DType, Generator, Tensor};
use nabla_nn::init::Init;
use nabla_nn::layers::{
    BatchNorm1d, Dropout, Flatten, GELU, LayerNorm, LeakyReLU, Linear, ReLU, Residual, Sigmoid,
    Softmax, Tanh,
};
use nabla_nn::module::{Module, Sequential};

const LINEAR_Y: [f64; 6] = [
    -0.5918137294549864,
    0.28120490765039313,
    0.7601819005492287,
    -1.508696902219158,
    -0.1988456261342218,
    1.5900111498669804,
];
const BN_Y1: [f64; 12] = [
    -1.8545109233810109,
    -1.7832857618587026,
    -1.5154155926212798,
    -0.605869650564433,
    -0.2587537680125471,
    0.10945643435185015,
    0.9465854426175676,
    0.930305898409043,
    0.8147786406758352,
    1.0785782426163808,
    0.46323205409771473,
    -0.18283410218603538,
];
const BN_GRAD_X: [f64; 12] = [
    -0.037877060186565635,
    -0.016562823221667567,
    0.025303618405404467,
    0.0624025316446445,
    0.07363293601330079,
    0.08539206246580652,
    0.04542591035733208,
    0.03412879464159091,
    0.008768106204498737,
    -0.06995138181541086,
    -0.09119890743322413,
    -0.11946378707570979,
];
const BN_GRAD_W: [f64; 3] = [-3.1144341032648724, -2.808183048143794, -2.335913029049505];
const BN_GRAD_B: [f64; 3] = [
    -0.3596544438399616,
    -0.8662628362601149,
    -1.2556266176151312,
];
const BN_RUNNING_MEAN: [f64; 3] = [0.1767034285176512, 0.19798183903244349, 0.19787814876050414];
const BN_RUNNING_VAR: [f64; 3] = [1.371838531465039, 1.3056845961581633, 1.3568771506701647];
const BN_EVAL_Y: [f64; 6] = [
    0.38574887783049805,
    0.4557072799973334,
    0.3836487783467962,
    0.7053912161338279,
    0.3884703710903593,
    0.057318235860821694,
];
const LN_Y: [f64; 24] = [
    -1.1169274839364085,
    -1.2722338594494096,
    -1.2371140670694116,
    -0.9348313253655751,
    -0.3796622265027093,
    0.31110325211715106,
    0.9550837289530595,
    1.3759856884284092,
    1.4740865526543576,
    1.2620954650680862,
    0.8498405231755497,
    0.38696477932796014,
    0.909749014437125,
    0.5080218765678615,
    -0.11759303808596598,
    -0.8458488182642883,
    -1.4639907729109205,
    -1.756279644626184,
    -1.6022752960334066,
    -1.0354431530301713,
    -0.23202289463816905,
    0.5648808197189673,
    1.1484830293081594,
    1.4280512969729584,
];
const LN_GRAD_X: [f64; 24] = [
    -0.4750393151611926,
    -0.16238723695503804,
    0.1534197212602928,
    0.3419441009184778,
    0.33836240619466496,
    0.17279900947493765,
    -0.049254419300535354,
    -0.2046745793619547,
    -0.21805185460532817,
    -0.1003377910440892,
    0.05931252305353067,
    0.1439074355262343,
    -0.1760928836133884,
    -0.539376975479596,
    -0.6166162031378761,
    -0.41531762040858544,
    -0.0657781184251029,
    0.25045336131731355,
    0.39536380014155037,
    0.3429576788703652,
    0.18611383542784313,
    0.07914332172430635,
    0.1472933629563277,
    0.4118564406268417,
];
const LN_GRAD_W: [f64; 12] = [
    -2.0412242060679167,
    -1.4684486618650145,
    -1.070609578592805,
    -0.9472084645917429,
    -1.056154076019621,
    -1.250211708292578,
    -1.366231024319915,
    -1.318827436010857,
    -1.148386532572897,
    -0.9978297724855975,
    -1.0305800361363502,
    -1.3336211941590799,
];
const LN_GRAD_B: [f64; 12] = [
    0.5924053406048384,
    0.9334710076884041,
    1.1481957529918012,
    1.2075175895575323,
    1.103407585097739,
    0.8499565403139475,
    0.48146786512504386,
    0.047814773059323135,
    -0.3923098242307337,
    -0.7793371272197447,
    -1.060884806075301,
    -1.198846703264167,
];
const RELU: [f64; 6] = [1.9508635204713505, 0.994698789379691, 0.0, 0.0, 0.0, 0.0];
const LEAKY: [f64; 6] = [
    1.9508635204713505,
    0.994698789379691,
    -0.0096093756511549,
    -0.11738804632551361,
    -0.20927879562193416,
    -0.27284464170213757,
];
const SIGMOID: [f64; 6] = [
    0.875540769406047,
    0.7300150215625181,
    0.4759950298745143,
    0.23615428867563484,
    0.10979977238257477,
    0.061315519810479335,
];
const TANH: [f64; 6] = [
    0.9603865032436014,
    0.7593587794113459,
    -0.09579906802214296,
    -0.8255121788965617,
    -0.9700290772726505,
    -0.9915026707380552,
];
const GELU_Y: [f64; 6] = [
    1.901045017973795,
    0.8356052806624163,
    -0.04436870282019683,
    -0.141125616597109,
    -0.038055347662681996,
    -0.008681019837741211,
];
const SOFTMAX: [f64; 6] = [
    0.6607239360575735,
    0.2539586289538143,
    0.08531743498861204,
    0.6210270831213097,
    0.24776165119333948,
    0.13121126568535066,
];
const MLP_Y: [f64; 10] = [
    -0.2941201053015139,
    -0.29361681922027905,
    -0.37151665094621866,
    -0.975115553158438,
    -0.3513473657408927,
    -0.7330353877856127,
    -0.7523908566559314,
    -0.7587005959132717,
    -0.5265696278393759,
    -0.5214314665336398,
];

fn names(items: Vec<(String, Tensor)>) -> Vec<String> {
    items.into_iter().map(|(n, _)| n).collect()
}

fn linear_4_3() -> Linear {
    Linear::from_parts(det(&[3, 4], 1.0) * 0.5, Some(det(&[3], 2.0) * 0.1)).unwrap()
}

// ---- Linear ------------------------------------------------------------------------------

#[test]
fn linear_forward_matches_pytorch() {
    assert_close(&linear_4_3().forward(&det(&[2, 4], 3.0)), &LINEAR_Y);
}

#[test]
fn linear_applies_to_the_last_dim_of_any_batch_shape() {
    let layer = linear_4_3();
    let x = det(&[2, 5, 4], 3.0);
    let y = layer.forward(&x);
    assert_eq!(y.shape(), &[2, 5, 3]);
    assert_eq!(
        y.narrow(0, 1, 1).reshape(&[5, 3]).to_vec::<f64>(),
        layer
            .forward(&x.narrow(0, 1, 1).reshape(&[5, 4]))
            .to_vec::<f64>()
    );
}

#[test]
fn linear_gradcheck_input_weight_and_bias() {
    assert_gradcheck(
        |v| {
            Linear::from_parts(v[1].clone(), Some(v[2].clone()))
                .unwrap()
                .forward(&v[0])
        },
        &[det(&[2, 4], 3.0), det(&[3, 4], 1.0), det(&[3], 2.0)],
    );
    assert_gradcheck(
        |v| {
            Linear::from_parts(v[1].clone(), None)
                .unwrap()
                .forward(&v[0])
        },
        &[det(&[2, 4], 3.0), det(&[3, 4], 1.0)],
    );
}

#[test]
fn linear_default_init_is_pytorchs_uniform_bound_and_reproducible() {
    let layer = Linear::new(64, 10, DType::F32, &mut Generator::new(3));
    assert_eq!(layer.weight().shape(), &[10, 64]);
    assert_eq!(layer.bias().unwrap().shape(), &[10]);
    assert!(layer.weight().requires_grad_flag() && layer.bias().unwrap().requires_grad_flag());
    let bound = 1.0 / 8.0;
    for p in layer.parameters() {
        assert!(p.to_f64_vec().iter().all(|v| v.abs() <= bound));
    }
    let again = Linear::new(64, 10, DType::F32, &mut Generator::new(3));
    assert_eq!(
        layer.weight().to_vec::<f32>(),
        again.weight().to_vec::<f32>()
    );
}

#[test]
fn linear_with_init_and_without_bias() {
    let layer =
        Linear::with_init(4, 3, false, Init::Ones, DType::F64, &mut Generator::new(0)).unwrap();
    assert_eq!(layer.describe(), "Linear(4 -> 3, bias=false)");
    assert_eq!(names(layer.named_parameters()), ["weight"]);
    let y = layer.forward(&Tensor::ones(&[1, 4], DType::F64));
    assert_eq!(y.to_vec::<f64>(), [4.0, 4.0, 4.0]);
    let with_bias =
        Linear::with_init(4, 3, true, Init::Ones, DType::F64, &mut Generator::new(0)).unwrap();
    assert_eq!(with_bias.bias().unwrap().to_vec::<f64>(), [0.0; 3]);
}

#[test]
fn linear_errors_name_the_layer_and_the_input() {
    let layer = linear_4_3();
    let err = layer
        .try_forward(&Tensor::zeros(&[2, 4], DType::F32))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "forward: Linear(4 -> 3): input has dtype f32, expected f64 (convert it with .to_dtype())"
    );
    let err = layer
        .try_forward(&Tensor::zeros(&[], DType::F64))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "forward: Linear(4 -> 3): input has shape [], expected last dim 4"
    );
    let err = Linear::from_parts(det(&[3, 4], 1.0), Some(det(&[4], 1.0)))
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "Linear: the bias must be [3] of dtype f64, got shape [4] of dtype f64"
    );
    let err = Linear::from_parts(det(&[12], 1.0), None).err().unwrap();
    assert_eq!(
        err.to_string(),
        "Linear: the weight must be [out, in], got shape [12]"
    );
}

// ---- activations -------------------------------------------------------------------------

fn activation_input() -> Tensor {
    det(&[6], 15.0) * 3.0
}

#[test]
fn activations_match_pytorch() {
    let x = activation_input();
    assert_close(&ReLU.forward(&x), &RELU);
    assert_close(&LeakyReLU::new(0.1).forward(&x), &LEAKY);
    assert_close(&Sigmoid.forward(&x), &SIGMOID);
    assert_close(&Tanh.forward(&x), &TANH);
    assert_close(&GELU.forward(&x), &GELU_Y);
    assert_close(&Softmax::new(-1).forward(&x.reshape(&[2, 3])), &SOFTMAX);
}

#[test]
fn activations_gradcheck() {
    let layers: Vec<Box<dyn Module>> = vec![
        Box::new(ReLU),
        Box::new(LeakyReLU::new(0.1)),
        Box::new(Sigmoid),
        Box::new(Tanh),
        Box::new(GELU),
        Box::new(Softmax::new(1)),
    ];
    for layer in &layers {
        assert_gradcheck(
            |v| layer.forward(&v[0]),
            &[activation_input().reshape(&[2, 3])],
        );
    }
}

#[test]
fn activations_describe_themselves_and_reject_integers() {
    assert_eq!(ReLU.describe(), "ReLU");
    assert_eq!(GELU.describe(), "GELU");
    assert_eq!(LeakyReLU::default().describe(), "LeakyReLU(0.01)");
    assert_eq!(Softmax::new(1).describe(), "Softmax(dim=1)");
    let err = LeakyReLU::default()
        .try_forward(&Tensor::from_vec(vec![1i64], &[1]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "forward: LeakyReLU(0.01): input has dtype i64, expected f32 or f64"
    );
    assert!(
        ReLU.try_forward(&Tensor::from_vec(vec![1i64], &[1]))
            .is_err()
    );
}

// ---- Dropout -----------------------------------------------------------------------------

#[test]
fn dropout_zeroes_about_p_and_scales_the_rest() {
    let drop = Dropout::new(0.3, 11);
    let y = drop.forward(&Tensor::ones(&[100_000], DType::F64));
    let values = y.to_vec::<f64>();
    let zeros = values.iter().filter(|&&v| v == 0.0).count() as f64 / 1e5;
    assert!((zeros - 0.3).abs() < 0.01, "dropped fraction {zeros}");
    let kept = 1.0 / (1.0 - 0.3);
    assert!(values.iter().all(|&v| v == 0.0 || v == kept));
}

#[test]
fn dropout_gradient_is_the_mask() {
    let x = Tensor::ones(&[1000], DType::F64).requires_grad();
    let y = Dropout::new(0.5, 1).forward(&x);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), y.to_vec::<f64>());
}

#[test]
fn dropout_is_seeded_and_identity_in_eval() {
    let x = Tensor::ones(&[64], DType::F32);
    let (a, b) = (Dropout::new(0.5, 9), Dropout::new(0.5, 9));
    assert_eq!(a.forward(&x).to_vec::<f32>(), b.forward(&x).to_vec::<f32>());
    // The stream advances: the next mask differs from the first.
    assert_ne!(
        a.forward(&x).to_vec::<f32>(),
        Dropout::new(0.5, 9).forward(&x).to_vec::<f32>()
    );
    let mut eval = Dropout::new(0.5, 9);
    eval.set_training(false);
    assert!(eval.forward(&x).same_as(&x));
    assert_eq!(Dropout::new(1.0, 0).forward(&x).to_vec::<f32>(), [0.0; 64]);
    assert!(Dropout::new(0.0, 0).forward(&x).same_as(&x));
    assert_eq!(Dropout::new(0.25, 0).describe(), "Dropout(p=0.25)");
    let err = Dropout::try_new(1.5, 0).err().unwrap();
    assert_eq!(
        err.to_string(),
        "Dropout: the probability must be in [0, 1], got 1.5"
    );
}

/// Dropout's generator state used to be out of reach, so a resumed run drew other masks.
#[test]
fn dropout_generators_are_saved_and_restored_by_name() {
    let mut net = Sequential::new();
    net.push(Box::new(ReLU));
    net.push(Box::new(Residual::new(Box::new(Dropout::new(0.5, 3)))));
    let x = Tensor::ones(&[64], DType::F32);
    net.forward(&x);
    let saved = net.named_generators();
    let names: Vec<&str> = saved.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["1.inner.generator"]);
    let next = net.forward(&x).to_vec::<f32>();
    net.load_generators(&saved).unwrap();
    assert_eq!(net.forward(&x).to_vec::<f32>(), next);

    let wrong = vec![("1.generator".to_string(), Generator::new(0))];
    assert_eq!(
        net.load_generators(&wrong).unwrap_err().to_string(),
        "load_generators: the generators do not match the module: missing \
         [\"1.inner.generator\"]; unexpected [\"1.generator\"]"
    );
}

// ---- BatchNorm1d -------------------------------------------------------------------------

fn batchnorm() -> BatchNorm1d {
    let bn = BatchNorm1d::new(3, DType::F64);
    nabla_core::no_grad(|| {
        bn.weight().copy_(&(det(&[3], 9.0) * 0.5 + 1.0));
        bn.bias().copy_(&(det(&[3], 10.0) * 0.2));
    });
    bn
}

#[test]
fn batchnorm_training_matches_pytorch_values_gradients_and_running_stats() {
    let mut bn = batchnorm();
    let x1 = (det(&[4, 3], 5.0) * 2.0 + 1.0).requires_grad();
    let y1 = bn.forward(&x1);
    assert_close(&y1, &BN_Y1);
    (&y1 * &det(&[4, 3], 8.0)).sum().backward();
    assert_close(&x1.grad().unwrap(), &BN_GRAD_X);
    assert_close(&bn.weight().grad().unwrap(), &BN_GRAD_W);
    assert_close(&bn.bias().grad().unwrap(), &BN_GRAD_B);
    bn.forward(&(det(&[4, 3], 6.0) * 3.0 - 0.5));
    assert_close(bn.running_mean(), &BN_RUNNING_MEAN);
    assert_close(bn.running_var(), &BN_RUNNING_VAR);
    assert_eq!(bn.num_batches_tracked(), 2);
    bn.set_training(false);
    assert_close(&bn.forward(&det(&[2, 3], 7.0)), &BN_EVAL_Y);
    assert_eq!(bn.num_batches_tracked(), 2);
}

#[test]
fn batchnorm_eval_normalises_with_the_running_stats() {
    let mut bn = BatchNorm1d::new(2, DType::F64);
    bn.running_mean()
        .copy_(&Tensor::from_vec(vec![1.0f64, -2.0], &[2]));
    bn.running_var()
        .copy_(&Tensor::from_vec(vec![4.0f64, 0.25], &[2]));
    bn.set_training(false);
    let y = bn.forward(&Tensor::from_vec(vec![3.0f64, -1.0], &[1, 2]));
    let expected = [2.0 / (4.0f64 + 1e-5).sqrt(), 1.0 / (0.25f64 + 1e-5).sqrt()];
    assert_eq!(y.to_vec::<f64>(), expected);
}

#[test]
fn batchnorm_gradcheck_in_train_and_eval_mode() {
    let mut bn = batchnorm();
    let x = det(&[4, 3], 5.0) * 2.0 + 1.0;
    assert_gradcheck(|v| bn.forward(&v[0]), std::slice::from_ref(&x));
    bn.set_training(false);
    assert_gradcheck(|v| bn.forward(&v[0]), &[x]);
}

#[test]
fn batchnorm_names_and_errors() {
    let bn = BatchNorm1d::new(3, DType::F32);
    assert_eq!(names(bn.named_parameters()), ["weight", "bias"]);
    assert_eq!(
        names(bn.named_buffers()),
        ["running_mean", "running_var", "num_batches_tracked"]
    );
    assert_eq!(bn.describe(), "BatchNorm1d(3, eps=0.00001, momentum=0.1)");
    let err = bn
        .try_forward(&Tensor::zeros(&[4, 2], DType::F32))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "forward: BatchNorm1d(3, eps=0.00001, momentum=0.1): input has shape [4, 2], expected [N, 3]"
    );
    let err = bn
        .try_forward(&Tensor::zeros(&[1, 3], DType::F32))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "forward: BatchNorm1d(3, eps=0.00001, momentum=0.1): training needs more than one value per channel to estimate a variance, got shape [1, 3]"
    );
    assert_eq!(bn.num_batches_tracked(), 0);
}

// ---- LayerNorm ---------------------------------------------------------------------------

fn layernorm() -> LayerNorm {
    let ln = LayerNorm::new(&[3, 4], DType::F64);
    nabla_core::no_grad(|| {
        ln.weight().copy_(&(det(&[3, 4], 12.0) * 0.5 + 1.0));
        ln.bias().copy_(&(det(&[3, 4], 13.0) * 0.1));
    });
    ln
}

#[test]
fn layernorm_matches_pytorch_values_and_gradients() {
    let ln = layernorm();
    let x = det(&[2, 3, 4], 11.0).requires_grad();
    let y = ln.forward(&x);
    assert_close(&y, &LN_Y);
    (&y * &det(&[2, 3, 4], 14.0)).sum().backward();
    assert_close(&x.grad().unwrap(), &LN_GRAD_X);
    assert_close(&ln.weight().grad().unwrap(), &LN_GRAD_W);
    assert_close(&ln.bias().grad().unwrap(), &LN_GRAD_B);
}

#[test]
fn layernorm_gradcheck_and_errors() {
    let ln = layernorm();
    assert_gradcheck(|v| ln.forward(&v[0]), &[det(&[2, 3, 4], 11.0)]);
    let err = ln
        .try_forward(&Tensor::zeros(&[2, 4, 3], DType::F64))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "forward: LayerNorm([3, 4], eps=0.00001): input has shape [2, 4, 3], expected trailing dims [3, 4]"
    );
    assert!(LayerNorm::try_new(&[], DType::F32).is_err());
    assert!(LayerNorm::try_new(&[4], DType::I64).is_err());
}

// ---- Residual ----------------------------------------------------------------------------

fn linear_square() -> Linear {
    Linear::from_parts(det(&[4, 4], 1.0), Some(det(&[4], 2.0))).unwrap()
}

#[test]
fn residual_adds_the_input_and_names_its_child() {
    let block = Residual::new(Box::new(linear_square()));
    let x = det(&[3, 4], 3.0);
    let expected = &x + &linear_square().forward(&x);
    assert_eq!(block.forward(&x).to_vec::<f64>(), expected.to_vec::<f64>());
    assert_eq!(
        names(block.named_parameters()),
        ["inner.weight", "inner.bias"]
    );
    assert_eq!(block.describe(), "Residual(Linear(4 -> 4))");
    assert_gradcheck(|v| block.forward(&v[0]), &[x]);
}

#[test]
fn residual_rejects_a_shape_changing_module() {
    let block = Residual::new(Box::new(linear_4_3()));
    let err = block.try_forward(&det(&[2, 4], 0.0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "forward: Residual(Linear(4 -> 3)): input has shape [2, 4], which the inner module maps to [2, 3], expected a module that keeps the shape"
    );
}

#[test]
fn flatten_merges_every_dim_after_the_batch_like_pytorch() {
    // torch.nn.Flatten()(x) for x of shape [2, 3, 2, 2]: row-major order, batch kept.
    let x = det(&[2, 3, 2, 2], 4.0);
    let y = Flatten.forward(&x);
    assert_eq!(y.shape(), &[2, 12]);
    assert_eq!(y.to_vec::<f64>(), x.to_vec::<f64>());
    assert_eq!(Flatten.forward(&det(&[3, 5], 0.0)).shape(), &[3, 5]);
    assert!(Flatten.named_parameters().is_empty());
    assert_gradcheck(|v| Flatten.forward(&v[0]), &[det(&[2, 2, 3], 1.0)]);
    let err = Flatten.try_forward(&Tensor::scalar(1.0f64)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "forward: Flatten(start_dim=1, end_dim=-1): input has shape [], expected [N, ...] with at least 2 dims"
    );
}

// ---- Sequential and state dicts ------------------------------------------------------------

fn mlp() -> Sequential {
    let mut net = Sequential::new();
    net.push(Box::new(linear_4_3()));
    net.push(Box::new(ReLU));
    net.push(Box::new(
        Linear::from_parts(det(&[2, 3], 16.0) * 0.5, Some(det(&[2], 17.0) * 0.1)).unwrap(),
    ));
    net
}

#[test]
fn sequential_mlp_matches_pytorch_and_traces_every_layer() {
    let net = mlp();
    let x = det(&[5, 4], 18.0);
    let y = net.forward(&x);
    assert_close(&y, &MLP_Y);
    let trace = net.forward_trace(&x).unwrap();
    assert_eq!(trace.len(), 3);
    assert_eq!(trace[1].to_vec::<f64>(), trace[0].relu().to_vec::<f64>());
    assert_eq!(trace[2].to_vec::<f64>(), y.to_vec::<f64>());
    assert_eq!(
        names(net.named_parameters()),
        ["0.weight", "0.bias", "2.weight", "2.bias"]
    );
    let children: Vec<String> = net.children().into_iter().map(|(n, _)| n).collect();
    assert_eq!(children, ["0", "1", "2"]);
    assert_eq!(
        net.describe(),
        "Sequential(\n  (0): Linear(4 -> 3)\n  (1): ReLU\n  (2): Linear(3 -> 2)\n)"
    );
    assert_eq!(Sequential::new().describe(), "Sequential()");
}

#[test]
fn sequential_errors_come_from_the_failing_layer() {
    let err = mlp().try_forward(&det(&[5, 3], 0.0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "forward: Linear(4 -> 3): input has shape [5, 3], expected last dim 4"
    );
}

#[test]
fn set_training_reaches_nested_layers() {
    let mut net = Sequential::new();
    net.push(Box::new(Residual::new(Box::new(Dropout::new(0.9, 0)))));
    net.set_training(false);
    let x = det(&[8], 1.0);
    assert_eq!(net.forward(&x).to_vec::<f64>(), (&x * 2.0).to_vec::<f64>());
}

fn model(seed: u64) -> Sequential {
    let mut rng = Generator::new(seed);
    let mut net = Sequential::new();
    net.push(Box::new(Linear::new(4, 3, DType::F32, &mut rng)));
    net.push(Box::new(BatchNorm1d::new(3, DType::F32)));
    net.push(Box::new(ReLU));
    net.push(Box::new(Linear::new(3, 2, DType::F32, &mut rng)));
    net
}

#[test]
fn state_dict_follows_pytorchs_names_and_order() {
    // list(nn.Sequential(nn.Linear(4,3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3,2)).state_dict())
    let net = model(0);
    assert_eq!(
        names(net.state_dict()),
        [
            "0.weight",
            "0.bias",
            "1.weight",
            "1.bias",
            "1.running_mean",
            "1.running_var",
            "1.num_batches_tracked",
            "3.weight",
            "3.bias"
        ]
    );
    assert_eq!(
        names(net.named_parameters()),
        [
            "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"
        ]
    );
    assert_eq!(
        names(net.named_buffers()),
        ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    );
    assert_eq!(net.parameters().len(), 6);
}

#[test]
fn load_state_dict_round_trip_copies_values() {
    let source = model(1);
    source.forward(&Tensor::randn_with(
        &[8, 4],
        DType::F32,
        &mut Generator::new(5),
    ));
    let target = model(2);
    target.load_state_dict(&source.state_dict()).unwrap();
    for ((name, a), (_, b)) in source.state_dict().iter().zip(target.state_dict()) {
        assert_eq!(a.to_f64_vec(), b.to_f64_vec(), "{name}");
        assert!(!a.shares_storage(&b), "{name} must be copied, not shared");
    }
    let mut source = source;
    let mut target = target;
    source.set_training(false);
    target.set_training(false);
    let x = Tensor::randn_with(&[3, 4], DType::F32, &mut Generator::new(6));
    assert_eq!(
        source.forward(&x).to_vec::<f32>(),
        target.forward(&x).to_vec::<f32>()
    );
}

#[test]
fn load_state_dict_reports_every_problem_and_changes_nothing() {
    let net = model(1);
    let before: Vec<Vec<f64>> = net
        .state_dict()
        .iter()
        .map(|(_, t)| t.to_f64_vec())
        .collect();
    let mut state = model(2).state_dict();
    state.retain(|(n, _)| n != "0.bias");
    state.push(("extra".to_string(), Tensor::zeros(&[1], DType::F32)));
    state[0].1 = Tensor::zeros(&[4, 3], DType::F32);
    state[1].1 = Tensor::zeros(&[3], DType::F64);
    let err = net.load_state_dict(&state).unwrap_err();
    assert_eq!(
        err.to_string(),
        "load_state_dict: missing keys [\"0.bias\"]; unexpected keys [\"extra\"]; \
         0.weight: the state has shape [4, 3], the module [3, 4]; \
         1.weight: the state has dtype f64, the module f32"
    );
    let after: Vec<Vec<f64>> = net
        .state_dict()
        .iter()
        .map(|(_, t)| t.to_f64_vec())
        .collect();
    assert_eq!(before, after);
    let mut twice = model(2).state_dict();
    twice.push(twice[0].clone());
    assert_eq!(
        net.load_state_dict(&twice).unwrap_err().to_string(),
        "load_state_dict: duplicate keys [\"0.weight\"]"
    );
}
