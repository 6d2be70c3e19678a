//! Property tests of shapes, views and broadcasting against index-by-index models.
//!
//! A chain of views (reshape, permute, transpose, narrow, expand, squeeze, unsqueeze, flatten),
//! each with arguments that may be out of range (negative or huge dims, starts near
//! `usize::MAX`), is applied both to a tensor and to a model that keeps, for every element of
//! the current view in row-major order, the position in the original data it reads. Each step
//! must fail in the tensor exactly when the model says it is invalid, and otherwise give the
//! model's shape and elements. Broadcasting binary operations, and the gradients they send back
//! to each operand, are checked the same way.

use nabla_core::Tensor;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// A view of the original data: its shape, and for every element in row-major order the
/// original position it reads.
#[derive(Clone, Debug)]
struct Model {
    shape: Vec<usize>,
    source: Vec<usize>,
}

#[derive(Clone, Debug)]
enum View {
    Reshape(Vec<usize>),
    /// Splits dim 0 into `[k, size / k]` when `k` divides it (else skipped).
    Split(usize),
    /// Dims ordered by these keys: a valid permutation of however many dims there are.
    Permutation(Vec<u8>),
    /// A list that is usually not a permutation.
    Permute(Vec<usize>),
    Transpose(isize, isize),
    Narrow(isize, usize, usize),
    Expand(Vec<usize>),
    Squeeze(isize),
    Unsqueeze(isize),
    Flatten(isize, isize),
}

/// Row-major multi-index of position `i` in `shape`.
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        index[d] = i % shape[d];
        i /= shape[d];
    }
    index
}

/// Row-major position of `index` in `shape`.
fn ravel(index: &[usize], shape: &[usize]) -> usize {
    index.iter().zip(shape).fold(0, |at, (&i, &n)| at * n + i)
}

/// `dim` resolved against `ndim` dims; a 0-d tensor answers to 0 and -1, as in PyTorch.
fn resolve(dim: isize, ndim: usize) -> Option<usize> {
    let n = ndim.max(1) as isize;
    let d = if dim < 0 { dim + n } else { dim };
    (0..n).contains(&d).then_some(d as usize)
}

fn checked_len(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1)))
        .filter(|&n| n <= isize::MAX as usize)
        .map(|_| shape.iter().product())
}

impl Model {
    fn new(shape: &[usize]) -> Model {
        let n = shape.iter().product();
        Model {
            shape: shape.to_vec(),
            source: (0..n).collect(),
        }
    }

    /// The view whose element at multi-index `j` of `shape` reads this view's `at(j)`.
    fn mapped(&self, shape: Vec<usize>, at: impl Fn(&[usize]) -> Vec<usize>) -> Model {
        let n = shape.iter().product();
        let source = (0..n)
            .map(|i| self.source[ravel(&at(&unravel(i, &shape)), &self.shape)])
            .collect();
        Model { shape, source }
    }

    fn reshaped(&self, shape: Vec<usize>) -> Option<Model> {
        (checked_len(&shape)? == self.source.len()).then(|| Model {
            shape,
            source: self.source.clone(),
        })
    }

    fn permuted(&self, dims: &[usize]) -> Option<Model> {
        let n = self.shape.len();
        let mut sorted = dims.to_vec();
        sorted.sort_unstable();
        if sorted != (0..n).collect::<Vec<_>>() {
            return None;
        }
        let shape = dims.iter().map(|&d| self.shape[d]).collect();
        Some(self.mapped(shape, |j| {
            let mut i = vec![0; n];
            for (k, &d) in dims.iter().enumerate() {
                i[d] = j[k];
            }
            i
        }))
    }

    /// The model after `view`, `None` when the view is invalid.
    fn apply(&self, view: &View) -> Option<Model> {
        let ndim = self.shape.len();
        match view {
            View::Reshape(shape) => self.reshaped(shape.clone()),
            View::Split(k) => {
                let mut shape = self.shape.clone();
                let first = shape.remove(0);
                shape.splice(0..0, [*k, first / k]);
                self.reshaped(shape)
            }
            View::Permutation(keys) => {
                let mut dims: Vec<usize> = (0..ndim).collect();
                dims.sort_by_key(|&d| keys[d]);
                self.permuted(&dims)
            }
            View::Permute(dims) => self.permuted(dims),
            View::Transpose(a, b) => {
                let (a, b) = (resolve(*a, ndim)?, resolve(*b, ndim)?);
                if ndim == 0 {
                    return Some(self.clone());
                }
                let mut dims: Vec<usize> = (0..ndim).collect();
                dims.swap(a, b);
                self.permuted(&dims)
            }
            View::Narrow(dim, start, len) => {
                if ndim == 0 {
                    return None;
                }
                let d = resolve(*dim, ndim)?;
                if start.checked_add(*len)? > self.shape[d] {
                    return None;
                }
                let mut shape = self.shape.clone();
                shape[d] = *len;
                Some(self.mapped(shape, |j| {
                    let mut i = j.to_vec();
                    i[d] += start;
                    i
                }))
            }
            View::Expand(target) => {
                let lead = target.len().checked_sub(ndim)?;
                let fits = self
                    .shape
                    .iter()
                    .zip(&target[lead..])
                    .all(|(&a, &b)| a == b || a == 1);
                if !fits {
                    return None;
                }
                checked_len(target)?;
                Some(self.mapped(target.clone(), |j| {
                    (0..ndim)
                        .map(|k| if self.shape[k] == 1 { 0 } else { j[lead + k] })
                        .collect()
                }))
            }
            View::Squeeze(dim) => {
                let d = resolve(*dim, ndim)?;
                if ndim == 0 {
                    return Some(self.clone());
                }
                let mut shape = self.shape.clone();
                (shape.remove(d) == 1).then(|| Model {
                    shape,
                    source: self.source.clone(),
                })
            }
            View::Unsqueeze(dim) => {
                let d = resolve(*dim, ndim + 1)?;
                let mut shape = self.shape.clone();
                shape.insert(d, 1);
                self.reshaped(shape)
            }
            View::Flatten(start, end) => {
                if ndim == 0 {
                    return self.reshaped(vec![1]);
                }
                let (s, e) = (resolve(*start, ndim)?, resolve(*end, ndim)?);
                if s > e {
                    return None;
                }
                let mut shape = self.shape[..s].to_vec();
                shape.push(self.shape[s..=e].iter().product());
                shape.extend_from_slice(&self.shape[e + 1..]);
                self.reshaped(shape)
            }
        }
    }
}

/// `view` on the tensor; `None` for a `Split` that does not apply (the model skips it too).
fn apply(t: &Tensor, model: &Model, view: &View) -> Option<nabla_core::Result<Tensor>> {
    Some(match view {
        View::Reshape(shape) => t.try_reshape(shape),
        View::Split(k) => {
            let first = *model.shape.first()?;
            if *k == 0 || first % k != 0 {
                return None;
            }
            let mut shape = model.shape.clone();
            shape.splice(0..1, [*k, first / k]);
            t.try_reshape(&shape)
        }
        View::Permutation(keys) => {
            let mut dims: Vec<usize> = (0..t.ndim()).collect();
            dims.sort_by_key(|&d| keys[d]);
            t.try_permute(&dims)
        }
        View::Permute(dims) => t.try_permute(dims),
        View::Transpose(a, b) => t.try_transpose(*a, *b),
        View::Narrow(dim, start, len) => t.try_narrow(*dim, *start, *len),
        View::Expand(shape) => t.try_expand(shape),
        View::Squeeze(dim) => t.try_squeeze(*dim),
        View::Unsqueeze(dim) => t.try_unsqueeze(*dim),
        View::Flatten(start, end) => t.try_flatten(*start, *end),
    })
}

fn small_shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..4, 0..5)
}

fn dim() -> impl Strategy<Value = isize> {
    prop_oneof![
        6 => -5isize..5,
        1 => Just(isize::MIN),
        1 => Just(isize::MAX),
    ]
}

/// A start or a length: usually small, sometimes near `usize::MAX` (where `start + len`
/// wraps).
fn extent() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 0usize..5,
        3 => (0usize..6).prop_map(|k| usize::MAX - k),
        1 => Just(isize::MAX as usize),
    ]
}

fn view() -> impl Strategy<Value = View> {
    prop_oneof![
        2 => prop::collection::vec(0usize..5, 0..5).prop_map(View::Reshape),
        1 => prop::collection::vec(prop_oneof![9 => 0usize..4, 1 => Just(usize::MAX / 2)], 1..4)
            .prop_map(View::Reshape),
        2 => (1usize..4).prop_map(View::Split),
        3 => prop::collection::vec(any::<u8>(), 16).prop_map(View::Permutation),
        1 => prop::collection::vec(0usize..5, 0..5).prop_map(View::Permute),
        2 => (dim(), dim()).prop_map(|(a, b)| View::Transpose(a, b)),
        4 => (dim(), extent(), extent()).prop_map(|(d, s, l)| View::Narrow(d, s, l)),
        // A start near `usize::MAX` and a length that makes `start + len` wrap to a small end.
        2 => (dim(), 0usize..4, 0usize..3)
            .prop_map(|(d, k, end)| View::Narrow(d, usize::MAX - k, k + 1 + end)),
        3 => prop::collection::vec(0usize..4, 0..6).prop_map(View::Expand),
        1 => prop::collection::vec(prop_oneof![3 => 0usize..4, 1 => Just(usize::MAX)], 0..6)
            .prop_map(View::Expand),
        2 => dim().prop_map(View::Squeeze),
        2 => dim().prop_map(View::Unsqueeze),
        1 => (dim(), dim()).prop_map(|(a, b)| View::Flatten(a, b)),
    ]
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// The values the model says the view holds: original position `p` holds `p + 0.5`.
fn expected(model: &Model) -> Vec<f64> {
    model.source.iter().map(|&p| p as f64 + 0.5).collect()
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn view_chains_agree_with_the_index_model(shape in small_shape(), views in prop::collection::vec(view(), 1..7)) {
        let n: usize = shape.iter().product();
        let data: Vec<f64> = (0..n).map(|p| p as f64 + 0.5).collect();
        let mut t = Tensor::from_vec(data, &shape);
        let mut model = Model::new(&shape);
        for v in &views {
            let Some(result) = apply(&t, &model, v) else { continue };
            match (result, model.apply(v)) {
                (Ok(next), Some(next_model)) => {
                    prop_assert_eq!(next.shape(), next_model.shape.as_slice(), "{:?}", v);
                    prop_assert_eq!(next.to_vec::<f64>(), expected(&next_model), "{:?}", v);
                    prop_assert_eq!(next.contiguous().to_vec::<f64>(), expected(&next_model));
                    t = next;
                    model = next_model;
                }
                (Err(_), None) => {}
                (Ok(next), None) => prop_assert!(false, "{:?} on {:?} gave {:?}, expected an error", v, model.shape, next.shape()),
                (Err(e), Some(m)) => prop_assert!(false, "{:?} on {:?} failed ({}), expected shape {:?}", v, model.shape, e, m.shape),
            }
        }
        // The final view computes like any tensor: summing it reads every element once.
        let total: f64 = expected(&model).iter().sum();
        prop_assert!((t.sum().item::<f64>() - total).abs() <= 1e-9 * total.abs().max(1.0));
    }
}

/// Two operand shapes: usually a common shape with leading dims dropped and some dims set to
/// 1 in each operand (they broadcast), sometimes two independent shapes (they mostly do not).
fn operand_shapes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    let compatible = (
        prop::collection::vec(0usize..4, 0..5),
        prop::collection::vec(any::<bool>(), 5),
        prop::collection::vec(any::<bool>(), 5),
        0usize..5,
        0usize..5,
    )
        .prop_map(|(common, ones_a, ones_b, drop_a, drop_b)| {
            let operand = |ones: &[bool], dropped: usize| -> Vec<usize> {
                common
                    .iter()
                    .zip(ones)
                    .map(|(&d, &one)| if one { 1 } else { d })
                    .skip(dropped.min(common.len()))
                    .collect()
            };
            (operand(&ones_a, drop_a), operand(&ones_b, drop_b))
        });
    prop_oneof![4 => compatible, 1 => (small_shape(), small_shape())]
}

/// The broadcast shape, NumPy's rule written out.
fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let at = |s: &[usize], i: usize| {
        if i < n - s.len() {
            1
        } else {
            s[i - (n - s.len())]
        }
    };
    (0..n)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// The position in an operand of `shape` that output multi-index `j` reads.
fn source_of(j: &[usize], shape: &[usize]) -> usize {
    let lead = j.len() - shape.len();
    let i: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(k, &d)| if d == 1 { 0 } else { j[lead + k] })
        .collect();
    ravel(&i, shape)
}

/// An operand: a leaf, and whether it holds the operand's values with the dims reversed.
struct Operand {
    leaf: Tensor,
    reversed: bool,
}

impl Operand {
    /// Values `scale · (p + 1)` in `shape`; stored with the dims reversed when `strided`, so the
    /// operand is a view that the kernels read through non-contiguous strides.
    fn new(shape: &[usize], scale: f64, strided: bool) -> Operand {
        let n: usize = shape.iter().product();
        let values: Vec<f64> = (0..n).map(|p| scale * (p as f64 + 1.0)).collect();
        let t = Tensor::from_vec(values, shape);
        let reversed = strided && shape.len() >= 2;
        let leaf = if reversed {
            reverse(&t).contiguous()
        } else {
            t
        };
        Operand {
            leaf: leaf.requires_grad(),
            reversed,
        }
    }

    /// `t` (the leaf or its gradient) in the operand's shape.
    fn view(&self, t: &Tensor) -> Tensor {
        if self.reversed { reverse(t) } else { t.clone() }
    }
}

fn reverse(t: &Tensor) -> Tensor {
    let dims: Vec<usize> = (0..t.ndim()).rev().collect();
    t.permute(&dims)
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn broadcasting_agrees_with_the_index_model(
        (sa, sb) in operand_shapes(),
        strided_a in any::<bool>(),
        strided_b in any::<bool>(),
        op in 0usize..4,
    ) {
        let (oa, ob) = (Operand::new(&sa, 1.0, strided_a), Operand::new(&sb, 0.25, strided_b));
        let (a, b) = (oa.view(&oa.leaf), ob.view(&ob.leaf));
        let f = |x: f64, y: f64| match op {
            0 => x + y,
            1 => x - y,
            2 => x * y,
            _ => x / y,
        };
        let result = match op {
            0 => a.try_add(&b),
            1 => a.try_sub(&b),
            2 => a.try_mul(&b),
            _ => a.try_div(&b),
        };
        let Some(shape) = broadcast(&sa, &sb) else {
            prop_assert!(result.is_err(), "{:?} and {:?} broadcast in the tensor", sa, sb);
            return Ok(());
        };
        let out = result.expect("broadcastable shapes");
        prop_assert_eq!(out.shape(), shape.as_slice());
        let (va, vb) = (a.to_vec::<f64>(), b.to_vec::<f64>());
        let n: usize = shape.iter().product();
        let want: Vec<f64> = (0..n)
            .map(|i| {
                let j = unravel(i, &shape);
                f(va[source_of(&j, &sa)], vb[source_of(&j, &sb)])
            })
            .collect();
        prop_assert_eq!(out.to_vec::<f64>(), want);

        // Gradients of Σ out: each operand element collects the derivative at every output
        // position that reads it.
        out.sum().backward();
        let mut ga = vec![0.0; va.len()];
        let mut gb = vec![0.0; vb.len()];
        for i in 0..n {
            let j = unravel(i, &shape);
            let (pa, pb) = (source_of(&j, &sa), source_of(&j, &sb));
            let (x, y) = (va[pa], vb[pb]);
            let (da, db) = match op {
                0 => (1.0, 1.0),
                1 => (1.0, -1.0),
                2 => (y, x),
                _ => (1.0 / y, -x / (y * y)),
            };
            ga[pa] += da;
            gb[pb] += db;
        }
        let grad_of = |o: &Operand| o.view(&o.leaf.grad().expect("a gradient")).to_vec::<f64>();
        let close = |got: Vec<f64>, want: &[f64]| got.len() == want.len()
            && got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 1e-12 * w.abs().max(1.0));
        prop_assert!(close(grad_of(&oa), &ga), "{:?}", grad_of(&oa));
        prop_assert!(close(grad_of(&ob), &gb), "{:?}", grad_of(&ob));
    }
}
