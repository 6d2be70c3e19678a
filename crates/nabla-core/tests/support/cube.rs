//! `x³` as a user's [`Function`], with correct rules `3x²·g` (reverse) and `3x²·t` (forward)
//! written with tensor operations on the saved input, so second derivatives flow through it.
//! Shared by the test files that check custom functions.

use nabla_core::{Context, Function, Result, Tensor, apply_function};

pub struct Cube;

impl Function for Cube {
    fn name(&self) -> &'static str {
        "CubeBackward"
    }
    fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        ctx.save_for_backward(&[&inputs[0]]);
        Ok(vec![inputs[0].powf(3.0)])
    }
    fn backward(&self, ctx: &Context, g: &[Tensor]) -> Vec<Option<Tensor>> {
        let x = &ctx.saved_tensors()[0];
        vec![Some(&g[0] * x * x * 3.0)]
    }
    fn jvp(&self, ctx: &Context, t: &[Tensor]) -> Option<Vec<Tensor>> {
        let x = &ctx.saved_tensors()[0];
        Some(vec![&t[0] * x * x * 3.0])
    }
}

/// `x³` through [`Cube`].
pub fn cube(x: &Tensor) -> Tensor {
    apply_function(Cube, &[x]).unwrap().remove(0)
}
