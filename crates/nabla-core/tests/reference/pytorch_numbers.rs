//! `PyTorch` reference values at the edges: NaN, infinities, signed zeros, bounds, and the
//! ranks of `matmul`.
//!
//! Produced by `tools/pytorch_reference/edge_values.py` with torch 2.15.0+cu132 in float64.
//! Do not edit by hand: regenerate with
//! `python tools/pytorch_reference/edge_values.py > crates/nabla-core/tests/reference/pytorch_numbers.rs`.

// Values such as exp(1) are PyTorch's results, not approximations of the constants.
#![allow(clippy::approx_constant)]

/// The edge inputs of the elementwise functions.
pub const EDGES: [f64; 9] = [
    f64::NAN,
    -1.0,
    -0.0,
    0.0,
    0.5,
    1.0,
    2.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

/// The second operand of maximum and minimum.
pub const OTHER: [f64; 9] = [0.0, 0.0, 0.0, -0.0, 0.5, f64::NAN, 3.0, 1.0, f64::NAN];

/// The reduced tensor, shape [3, 4], row-major.
pub const ROWS: [f64; 12] = [
    1.0,
    f64::NAN,
    3.0,
    f64::NAN,
    5.0,
    2.0,
    9.0,
    9.0,
    -1.0,
    0.0,
    -4.0,
    f64::NAN,
];

/// relu(x) at `EDGES`.
pub const RELU_Y: [f64; 9] = [f64::NAN, 0.0, -0.0, 0.0, 0.5, 1.0, 2.0, f64::INFINITY, 0.0];

/// d sum(relu(x)) / dx at `EDGES`.
pub const RELU_GRAD: [f64; 9] = [1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0];

/// leaky_relu(x, 0.1) at `EDGES`.
pub const LEAKY_RELU_Y: [f64; 9] = [
    f64::NAN,
    -0.1,
    -0.0,
    0.0,
    0.5,
    1.0,
    2.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

/// d sum(leaky_relu(x, 0.1)) / dx at `EDGES`.
pub const LEAKY_RELU_GRAD: [f64; 9] = [0.1, 0.1, 0.1, 0.1, 1.0, 1.0, 1.0, 1.0, 0.1];

/// clamp(x, -1, 1) at `EDGES`.
pub const CLAMP_Y: [f64; 9] = [f64::NAN, -1.0, -0.0, 0.0, 0.5, 1.0, 1.0, 1.0, -1.0];

/// d sum(clamp(x, -1, 1)) / dx at `EDGES`.
pub const CLAMP_GRAD: [f64; 9] = [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];

/// clamp(x, min=-1) at `EDGES`.
pub const CLAMP_MIN_Y: [f64; 9] = [
    f64::NAN,
    -1.0,
    -0.0,
    0.0,
    0.5,
    1.0,
    2.0,
    f64::INFINITY,
    -1.0,
];

/// d sum(clamp(x, min=-1)) / dx at `EDGES`.
pub const CLAMP_MIN_GRAD: [f64; 9] = [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0];

/// clamp(x, max=1) at `EDGES`.
pub const CLAMP_MAX_Y: [f64; 9] = [
    f64::NAN,
    -1.0,
    -0.0,
    0.0,
    0.5,
    1.0,
    1.0,
    1.0,
    f64::NEG_INFINITY,
];

/// d sum(clamp(x, max=1)) / dx at `EDGES`.
pub const CLAMP_MAX_GRAD: [f64; 9] = [0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0];

/// clamp(x, -inf, inf) at `EDGES`.
pub const CLAMP_INFINITE_Y: [f64; 9] = [
    f64::NAN,
    -1.0,
    -0.0,
    0.0,
    0.5,
    1.0,
    2.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

/// d sum(clamp(x, -inf, inf)) / dx at `EDGES`.
pub const CLAMP_INFINITE_GRAD: [f64; 9] = [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0];

/// clamp(x, nan, 1) at `EDGES`.
pub const CLAMP_NAN_MIN_Y: [f64; 9] = [
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
];

/// d sum(clamp(x, nan, 1)) / dx at `EDGES`.
pub const CLAMP_NAN_MIN_GRAD: [f64; 9] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];

/// clamp(x, -1, nan) at `EDGES`.
pub const CLAMP_NAN_MAX_Y: [f64; 9] = [
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
];

/// d sum(clamp(x, -1, nan)) / dx at `EDGES`.
pub const CLAMP_NAN_MAX_GRAD: [f64; 9] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];

/// clamp(x, min=nan) at `EDGES`.
pub const CLAMP_MIN_NAN_Y: [f64; 9] = [
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
];

/// d sum(clamp(x, min=nan)) / dx at `EDGES`.
pub const CLAMP_MIN_NAN_GRAD: [f64; 9] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];

/// abs(x) at `EDGES`.
pub const ABS_Y: [f64; 9] = [
    f64::NAN,
    1.0,
    0.0,
    0.0,
    0.5,
    1.0,
    2.0,
    f64::INFINITY,
    f64::INFINITY,
];

/// d sum(abs(x)) / dx at `EDGES`.
pub const ABS_GRAD: [f64; 9] = [0.0, -1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, -1.0];

/// sign(x) at `EDGES`.
pub const SIGN_Y: [f64; 9] = [0.0, -1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, -1.0];

/// d sum(sign(x)) / dx at `EDGES`.
pub const SIGN_GRAD: [f64; 9] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];

/// sigmoid(x) at `EDGES`.
pub const SIGMOID_Y: [f64; 9] = [
    f64::NAN,
    0.2689414213699951,
    0.5,
    0.5,
    0.6224593312018546,
    0.7310585786300049,
    0.8807970779778823,
    1.0,
    0.0,
];

/// d sum(sigmoid(x)) / dx at `EDGES`.
pub const SIGMOID_GRAD: [f64; 9] = [
    f64::NAN,
    0.19661193324148185,
    0.25,
    0.25,
    0.2350037122015945,
    0.19661193324148185,
    0.10499358540350662,
    0.0,
    0.0,
];

/// tanh(x) at `EDGES`.
pub const TANH_Y: [f64; 9] = [
    f64::NAN,
    -0.7615941559557649,
    -0.0,
    0.0,
    0.46211715726000974,
    0.7615941559557649,
    0.9640275800758169,
    1.0,
    -1.0,
];

/// d sum(tanh(x)) / dx at `EDGES`.
pub const TANH_GRAD: [f64; 9] = [
    f64::NAN,
    0.41997434161402614,
    1.0,
    1.0,
    0.7864477329659274,
    0.41997434161402614,
    0.07065082485316443,
    0.0,
    0.0,
];

/// exp(x) at `EDGES`.
pub const EXP_Y: [f64; 9] = [
    f64::NAN,
    0.36787944117144233,
    1.0,
    1.0,
    1.6487212707001282,
    2.718281828459045,
    7.38905609893065,
    f64::INFINITY,
    0.0,
];

/// d sum(exp(x)) / dx at `EDGES`.
pub const EXP_GRAD: [f64; 9] = [
    f64::NAN,
    0.36787944117144233,
    1.0,
    1.0,
    1.6487212707001282,
    2.718281828459045,
    7.38905609893065,
    f64::INFINITY,
    0.0,
];

/// log(x) at `EDGES`.
pub const LOG_Y: [f64; 9] = [
    f64::NAN,
    f64::NAN,
    f64::NEG_INFINITY,
    f64::NEG_INFINITY,
    -0.6931471805599453,
    0.0,
    0.6931471805599453,
    f64::INFINITY,
    f64::NAN,
];

/// d sum(log(x)) / dx at `EDGES`.
pub const LOG_GRAD: [f64; 9] = [
    f64::NAN,
    -1.0,
    f64::NEG_INFINITY,
    f64::INFINITY,
    2.0,
    1.0,
    0.5,
    0.0,
    -0.0,
];

/// sqrt(x) at `EDGES`.
pub const SQRT_Y: [f64; 9] = [
    f64::NAN,
    f64::NAN,
    -0.0,
    0.0,
    0.7071067811865476,
    1.0,
    1.4142135623730951,
    f64::INFINITY,
    f64::NAN,
];

/// d sum(sqrt(x)) / dx at `EDGES`.
pub const SQRT_GRAD: [f64; 9] = [
    f64::NAN,
    f64::NAN,
    f64::NEG_INFINITY,
    f64::INFINITY,
    0.7071067811865475,
    0.5,
    0.35355339059327373,
    0.0,
    f64::NAN,
];

/// gelu(x) at `EDGES`.
pub const GELU_Y: [f64; 9] = [
    f64::NAN,
    -0.15865525393145702,
    -0.0,
    0.0,
    0.34573123063700656,
    0.841344746068543,
    1.9544997361036416,
    f64::INFINITY,
    f64::NAN,
];

/// d sum(gelu(x)) / dx at `EDGES`.
pub const GELU_GRAD: [f64; 9] = [
    f64::NAN,
    -0.08331547058768635,
    0.5,
    0.5,
    0.8674951246561629,
    1.0833154705876864,
    1.085231801078197,
    f64::NAN,
    f64::NAN,
];

/// maximum(EDGES, OTHER).
pub const MAXIMUM_Y: [f64; 9] = [
    f64::NAN,
    0.0,
    0.0,
    -0.0,
    0.5,
    f64::NAN,
    3.0,
    f64::INFINITY,
    f64::NAN,
];

/// d sum(maximum(a, b)) / da at `EDGES`, `OTHER`.
pub const MAXIMUM_GRAD_A: [f64; 9] = [1.0, 0.0, 0.5, 0.5, 0.5, 1.0, 0.0, 1.0, 1.0];

/// d sum(maximum(a, b)) / db at `EDGES`, `OTHER`.
pub const MAXIMUM_GRAD_B: [f64; 9] = [1.0, 1.0, 0.5, 0.5, 0.5, 1.0, 1.0, 0.0, 1.0];

/// minimum(EDGES, OTHER).
pub const MINIMUM_Y: [f64; 9] = [f64::NAN, -1.0, 0.0, -0.0, 0.5, f64::NAN, 2.0, 1.0, f64::NAN];

/// d sum(minimum(a, b)) / da at `EDGES`, `OTHER`.
pub const MINIMUM_GRAD_A: [f64; 9] = [1.0, 1.0, 0.5, 0.5, 0.5, 1.0, 1.0, 0.0, 1.0];

/// d sum(minimum(a, b)) / db at `EDGES`, `OTHER`.
pub const MINIMUM_GRAD_B: [f64; 9] = [1.0, 0.0, 0.5, 0.5, 0.5, 1.0, 0.0, 1.0, 1.0];

/// max() of `ROWS`.
pub const MAX_ALL_Y: [f64; 1] = [f64::NAN];

/// its gradient, shape [3, 4].
pub const MAX_ALL_GRAD: [f64; 12] = [
    0.0,
    0.3333333333333333,
    0.0,
    0.3333333333333333,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.3333333333333333,
];

/// min() of `ROWS`.
pub const MIN_ALL_Y: [f64; 1] = [f64::NAN];

/// its gradient, shape [3, 4].
pub const MIN_ALL_GRAD: [f64; 12] = [
    0.0,
    0.3333333333333333,
    0.0,
    0.3333333333333333,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.3333333333333333,
];

/// amax(ROWS, dim 1).
pub const AMAX_Y: [f64; 3] = [f64::NAN, 9.0, f64::NAN];

/// d sum(amax(ROWS, 1)) / d ROWS, shape [3, 4].
pub const AMAX_GRAD: [f64; 12] = [
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    0.0,
    0.0,
    0.5,
    0.5,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
];

/// amin(ROWS, dim 1).
pub const AMIN_Y: [f64; 3] = [f64::NAN, 2.0, f64::NAN];

/// d sum(amin(ROWS, 1)) / d ROWS, shape [3, 4].
pub const AMIN_GRAD: [f64; 12] = [
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    0.0,
    1.0,
    0.0,
    0.0,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
];

/// argmax(ROWS, dim 1).
pub const ARGMAX: [i64; 3] = [1, 2, 3];

/// argmin(ROWS, dim 1).
pub const ARGMIN: [i64; 3] = [1, 1, 3];

/// argmax(ROWS, dim 0).
pub const ARGMAX_COLUMNS: [i64; 4] = [1, 0, 1, 0];

/// var([3]) with correction 1, and its gradient.
pub const VAR_ONE: [f64; 2] = [f64::NAN, f64::NAN];

/// var(zeros([2, 0]), dim 1), correction 1.
pub const VAR_EMPTY_DIM: [f64; 2] = [f64::NAN, f64::NAN];

/// var([3, 4], correction 2), var([3, 4, 5], correction 5).
pub const VAR_OVER_CORRECTED: [f64; 2] = [f64::INFINITY, f64::INFINITY];

/// std([3]) with correction 1, and its gradient.
pub const STD_ONE: [f64; 2] = [f64::NAN, f64::NAN];

/// std([2, 2, 2]), and its gradient (zero, not NaN).
pub const STD_FLAT: [f64; 4] = [0.0, 0.0, 0.0, 0.0];

/// std(det([3, 4], 3) with row 1 set to 0.5, dim 1, correction 0) * det([3], 4).
pub const STD_ROWS: [f64; 3] = [-0.27426145596638996, -0.0, -0.38425604610364766];

/// d sum(STD_ROWS) / dx, shape [3, 4].
pub const STD_ROWS_GRAD: [f64; 12] = [
    -0.26588406487818184,
    -0.07399392082418332,
    0.10189655988304366,
    0.23798142581932158,
    0.0,
    0.0,
    0.0,
    0.0,
    0.3433437863202459,
    0.10645198033429644,
    -0.12632212374146679,
    -0.3234736429130755,
];

/// sum(matmul(det([4], 1), det([4], 2)) * det([], 9)); matmul's shape is [].
pub const MATMUL_DOT: [f64; 1] = [0.7668798903134485];

/// its gradient with respect to a, shape [4].
pub const MATMUL_DOT_GRAD_A: [f64; 4] = [
    0.37473827817762695,
    0.2873610452844836,
    0.16109084298368906,
    0.013017750796359211,
];

/// its gradient with respect to b, shape [4].
pub const MATMUL_DOT_GRAD_B: [f64; 4] = [
    0.3467857476339195,
    0.4038382259397831,
    0.4062330948554565,
    0.3536462201080412,
];

/// sum(matmul(det([4], 1), det([4, 3], 2)) * det([3], 9)); matmul's shape is [3].
pub const MATMUL_VEC_MAT: [f64; 1] = [0.06492501392344618];

/// its gradient with respect to a, shape [4].
pub const MATMUL_VEC_MAT_GRAD_A: [f64; 4] = [
    0.29172957077426803,
    0.19655310767105805,
    -0.11693036481965063,
    -0.30054197441879194,
];

/// its gradient with respect to b, shape [4, 3].
pub const MATMUL_VEC_MAT_GRAD_B: [f64; 12] = [
    0.3467857476339195,
    0.04607101621897216,
    -0.2608792111123071,
    0.4038382259397831,
    0.05365052509814533,
    -0.30379852262953716,
    0.4062330948554565,
    0.05396868709127538,
    -0.30560012929215524,
    0.3536462201080412,
    0.046982440465157524,
    -0.2660401920900949,
];

/// sum(matmul(det([3, 4], 1), det([4], 2)) * det([3], 9)); matmul's shape is [3].
pub const MATMUL_MAT_VEC: [f64; 1] = [1.3427352486695396];

/// its gradient with respect to a, shape [3, 4].
pub const MATMUL_MAT_VEC_GRAD_A: [f64; 12] = [
    0.37473827817762695,
    0.2873610452844836,
    0.16109084298368906,
    0.013017750796359211,
    0.04978455259359824,
    0.03817635375251308,
    0.02140116452439673,
    0.0017294280753046196,
    -0.2819072786340815,
    -0.21617532816648974,
    -0.12118506115587202,
    -0.009792964622628644,
];

/// its gradient with respect to b, shape [4].
pub const MATMUL_MAT_VEC_GRAD_B: [f64; 4] = [
    0.6067613137403713,
    0.7072139149840162,
    0.7119484305250277,
    0.6203240658955462,
];

/// sum(matmul(det([2, 3, 4], 1), det([4], 2)) * det([2, 3], 9)); matmul's shape is [2, 3].
pub const MATMUL_BATCH_VEC: [f64; 1] = [-0.6450950292826667];

/// its gradient with respect to a, shape [2, 3, 4].
pub const MATMUL_BATCH_VEC_GRAD_A: [f64; 24] = [
    0.37473827817762695,
    0.2873610452844836,
    0.16109084298368906,
    0.013017750796359211,
    0.04978455259359824,
    0.03817635375251308,
    0.02140116452439673,
    0.0017294280753046196,
    -0.2819072786340815,
    -0.21617532816648974,
    -0.12118506115587202,
    -0.009792964622628644,
    -0.5754442821854647,
    -0.44126869354246556,
    -0.24736945731351434,
    -0.0199899254997629,
    -0.791097601674208,
    -0.6066384113324903,
    -0.34007355788635657,
    -0.02748134373748404,
    -0.8996795719829629,
    -0.6899024660180985,
    -0.3867502977564592,
    -0.03125329102114811,
];

/// its gradient with respect to b, shape [4].
pub const MATMUL_BATCH_VEC_GRAD_B: [f64; 4] = [
    -0.28355198189074937,
    -0.34219958222804814,
    -0.3545320744415896,
    -0.31888031356460944,
];

/// sum(matmul(det([4], 1), det([2, 4, 3], 2)) * det([2, 3], 9)); matmul's shape is [2, 3].
pub const MATMUL_VEC_BATCH: [f64; 1] = [-2.719690220706165];

/// its gradient with respect to a, shape [4].
pub const MATMUL_VEC_BATCH_GRAD_A: [f64; 4] = [
    -1.0176076976674593,
    -2.172244594253386,
    -0.9142194543619068,
    1.3592081758307022,
];

/// its gradient with respect to b, shape [2, 4, 3].
pub const MATMUL_VEC_BATCH_GRAD_B: [f64; 24] = [
    0.3467857476339195,
    0.04607101621897216,
    -0.2608792111123071,
    0.4038382259397831,
    0.05365052509814533,
    -0.30379852262953716,
    0.4062330948554565,
    0.05396868709127538,
    -0.30560012929215524,
    0.3536462201080412,
    0.046982440465157524,
    -0.2660401920900949,
    -0.532520661059238,
    -0.732087937699154,
    -0.8325705463512577,
    -0.6201298655026061,
    -0.8525295402406078,
    -0.9695433411039106,
    -0.6238074018109059,
    -0.8575852689073635,
    -0.9752929929715723,
    -0.5430555326969115,
    -0.7465708545418712,
    -0.849041313546791,
];

/// sum(matmul(det([2, 1, 3, 4], 1), det([5, 4, 2], 2)) * det([2, 5, 3, 2], 9)); matmul's shape is [2, 5, 3, 2].
pub const MATMUL_BATCH_BROADCAST: [f64; 1] = [-1.5734690235332385];

/// its gradient with respect to a, shape [2, 1, 3, 4].
pub const MATMUL_BATCH_BROADCAST_GRAD_A: [f64; 24] = [
    2.5642930327369275,
    0.7705919440346853,
    -1.4261771881770733,
    -2.8769659693269656,
    3.2485657056440127,
    2.1505248460121584,
    -0.0723757385504751,
    -2.2574192606808783,
    2.23363423643368,
    2.4055980230588547,
    1.3192827735083559,
    -0.45710032643987764,
    -1.731164902286364,
    -2.25228848035729,
    -1.5953235535790387,
    -0.1039040902804631,
    0.5824730302676204,
    -0.9816280462277667,
    -2.0322759272803372,
    -2.0199157036913284,
    2.591440940607527,
    0.8024855833445648,
    -1.406220196340057,
    -2.879384386639926,
];

/// its gradient with respect to b, shape [5, 4, 2].
pub const MATMUL_BATCH_BROADCAST_GRAD_B: [f64; 40] = [
    0.9672906537394825,
    0.08759566470670488,
    1.7045383958975844,
    0.9546280593803245,
    2.211084862522042,
    1.69245602457949,
    2.4183713656721335,
    2.20121800652195,
    -2.378374265758477,
    -2.003803654070462,
    -2.428288905686463,
    -2.371328553869967,
    -2.1495460338480057,
    -2.417905258308302,
    -1.5798721903045188,
    -2.137229828940938,
    1.9084124738405652,
    2.3352124349382444,
    1.2315167495374686,
    1.9125560659528822,
    0.38794101049071283,
    1.231044205646895,
    -0.5081407244124098,
    0.38291628719603676,
    0.07090407540728921,
    -0.8197123078188082,
    0.939256410128953,
    0.0588483274750945,
    1.6804847959906692,
    0.929444117715227,
    2.194267448225605,
    1.6742440068420656,
    -1.9941429134700424,
    -1.3440945603262526,
    -2.3671759412358195,
    -1.9837098459989442,
    -2.419822810279672,
    -2.3548393100192477,
    -2.1449580138541444,
    -2.407252320479039,
];
