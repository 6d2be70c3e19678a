//! Function transforms, as in JAX and `torch.func`: `vjp` (output and pullback), Jacobians by
//! reverse mode (a row per output element) or forward mode (a column per input element),
//! Hessians by forward-over-reverse, and Hessian-vector products.

use super::engine::{BackwardOptions, grad_or_zeros};
use super::forward::jvp;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// How [`jacobian`] computes: reverse mode costs one backward pass per output element, forward
/// mode one forward pass per input element; `Auto` picks the cheaper.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum JacobianMode {
    Reverse,
    Forward,
    Auto,
}

/// The pullback of a function at a point: maps an output cotangent to input cotangents.
pub struct Pullback {
    output: Tensor,
    inputs: Vec<Tensor>,
}

impl Pullback {
    /// `vᵀ·J` for each input, for `v` shaped like the output (zeros for an input the function
    /// ignores). Can be called repeatedly.
    pub fn apply(&self, cotangent: &Tensor) -> Result<Vec<Tensor>> {
        let refs: Vec<&Tensor> = self.inputs.iter().collect();
        let options = BackwardOptions {
            retain_graph: true,
            create_graph: false,
        };
        grad_or_zeros(&[&self.output], Some(&[cotangent]), &refs, options)
    }
}

/// Runs `f` at `primals`, returning its output and its [`Pullback`].
///
/// ```
/// use nabla_core::{Tensor, vjp};
/// let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2]);
/// let (y, pullback) = vjp(|v| &v[0] * &v[0], &[x]);
/// let g = pullback.apply(&Tensor::from_vec(vec![1.0f64, 10.0], &[2])).unwrap();
/// assert_eq!(y.to_vec::<f64>(), vec![1.0, 4.0]);
/// assert_eq!(g[0].to_vec::<f64>(), vec![2.0, 40.0]);
/// ```
pub fn vjp(f: impl Fn(&[Tensor]) -> Tensor, primals: &[Tensor]) -> (Tensor, Pullback) {
    let inputs: Vec<Tensor> = primals.iter().map(|p| p.detach().requires_grad()).collect();
    let output = super::enable_grad(|| f(&inputs));
    (output.detach(), Pullback { output, inputs })
}

fn basis(shape: &[usize], like: &Tensor, index: usize) -> Tensor {
    let mut e = Tensor::zeros(shape, like.dtype()).to_f64_vec();
    e[index] = 1.0;
    Tensor::from_vec(e, shape).to_dtype(like.dtype())
}

/// The Jacobian of `f` at `x`, shaped `output.shape ++ x.shape`.
///
/// ```
/// use nabla_core::{JacobianMode, Tensor, jacobian};
/// let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2]);
/// let f = |x: &Tensor| Tensor::stack(&[&(x * x).sum(), &x.narrow(0, 0, 1).squeeze(0)], 0);
/// let reverse = jacobian(f, &x, JacobianMode::Reverse).unwrap();
/// let forward = jacobian(f, &x, JacobianMode::Forward).unwrap();
/// assert_eq!(reverse.to_vec::<f64>(), vec![2.0, 4.0, 1.0, 0.0]);
/// assert_eq!(forward.to_vec::<f64>(), reverse.to_vec::<f64>());
/// ```
pub fn jacobian(f: impl Fn(&Tensor) -> Tensor, x: &Tensor, mode: JacobianMode) -> Result<Tensor> {
    if !x.dtype().is_float() {
        return Err(Error::UnsupportedDType {
            op: "jacobian",
            got: x.dtype(),
            expected: "f32 or f64",
        });
    }
    let n = x.numel();
    let mode = match mode {
        JacobianMode::Auto => {
            let m = crate::no_grad(|| f(x)).numel();
            if n <= m {
                JacobianMode::Forward
            } else {
                JacobianMode::Reverse
            }
        }
        chosen => chosen,
    };
    match mode {
        JacobianMode::Forward => {
            let mut columns = Vec::with_capacity(n);
            let mut out_shape = Vec::new();
            for j in 0..n {
                let (y, dy) = jvp(
                    |v| f(&v[0]),
                    std::slice::from_ref(x),
                    &[basis(x.shape(), x, j)],
                )?;
                out_shape = y.shape().to_vec();
                columns.push(dy.reshape(&[y.numel()]));
            }
            let refs: Vec<&Tensor> = columns.iter().collect();
            let mut shape = out_shape;
            shape.extend_from_slice(x.shape());
            Tensor::try_stack(&refs, 1)?.try_reshape(&shape)
        }
        _ => {
            let (y, pullback) = vjp(|v| f(&v[0]), std::slice::from_ref(x));
            let rows = (0..y.numel())
                .map(|i| Ok(pullback.apply(&basis(y.shape(), &y, i))?.remove(0)))
                .collect::<Result<Vec<_>>>()?;
            let refs: Vec<&Tensor> = rows.iter().collect();
            let mut shape = y.shape().to_vec();
            shape.extend_from_slice(x.shape());
            if refs.is_empty() {
                return Ok(Tensor::zeros(&shape, x.dtype()));
            }
            Tensor::try_stack(&refs, 0)?.try_reshape(&shape)
        }
    }
}

/// `H·v` for a scalar `f` at `x`: one forward-mode pass through the gradient computation.
///
/// ```
/// use nabla_core::{Tensor, hvp};
/// // f = x₀²·x₁ has H = [[2x₁, 2x₀], [2x₀, 0]].
/// let x = Tensor::from_vec(vec![3.0f64, 5.0], &[2]);
/// let f = |x: &Tensor| (x.narrow(0, 0, 1).powf(2.0) * x.narrow(0, 1, 1)).sum();
/// let hv = hvp(f, &x, &Tensor::from_vec(vec![1.0f64, 0.0], &[2])).unwrap();
/// assert_eq!(hv.to_vec::<f64>(), vec![10.0, 6.0]);
/// ```
pub fn hvp(f: impl Fn(&Tensor) -> Tensor, x: &Tensor, v: &Tensor) -> Result<Tensor> {
    let dual = x.detach().try_with_tangent(v)?.requires_grad();
    super::forward::take_failure();
    let y = super::enable_grad(|| f(&dual));
    if y.numel() != 1 {
        return Err(Error::invalid(
            "hvp",
            format!("f must return a scalar, not shape {:?}", y.shape()),
        ));
    }
    let g = grad_or_zeros(&[&y], None, &[&dual], BackwardOptions::default())?.remove(0);
    if let Some(e) = super::forward::take_failure() {
        return Err(e);
    }
    Ok(g.tangent().unwrap_or_else(|| g.zeros_like()))
}

/// The Hessian of a scalar `f` at `x`, shaped `x.shape ++ x.shape` (forward over reverse: one
/// [`hvp`] per input element).
pub fn hessian(f: impl Fn(&Tensor) -> Tensor, x: &Tensor) -> Result<Tensor> {
    let n = x.numel();
    let columns = (0..n)
        .map(|j| Ok(hvp(&f, x, &basis(x.shape(), x, j))?.reshape(&[n])))
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<&Tensor> = columns.iter().collect();
    let mut shape = x.shape().to_vec();
    shape.extend_from_slice(x.shape());
    Tensor::try_stack(&refs, 1)?.try_reshape(&shape)
}
