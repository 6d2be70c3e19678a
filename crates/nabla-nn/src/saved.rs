//! A trained model in one file: the weights of `model.safetensors` (or the model part of a
//! run's `checkpoint.safetensors`) with, in the file's metadata, the layer spec that builds the
//! network and the schema of the data it was trained on. [`SavedModel::load`] rebuilds the
//! network from the file alone.

use crate::checkpoint::{Metadata, load_safetensors};
use crate::data::Schema;
use crate::models::WeightInit;
use crate::module::{Module, Sequential};
use crate::spec::ModelSpec;
use crate::{Error, Result};
use nabla_core::{DType, Generator, Tensor};
use std::path::Path;

/// The metadata key of the canonical layer spec.
pub const LAYERS: &str = "layers";
/// The metadata key of the data's [`Schema`], as JSON.
pub const SCHEMA: &str = "schema";
/// The prefix of the model's tensors in a run's checkpoint.
pub const MODEL_PREFIX: &str = "model.";

/// The metadata entries that make a saved model rebuildable: the spec's canonical text and
/// the schema as JSON.
///
/// ```
/// use nabla_nn::data::{Preprocess, Schema};
/// use nabla_nn::saved::metadata;
/// use nabla_nn::spec::ModelSpec;
/// use nabla_nn::task::Task;
/// let preprocess = Preprocess::Table {
///     columns: vec!["x".into(), "y".into()],
///     target: "class".into(),
///     mean: vec![0.0, 0.0],
///     std: vec![1.0, 1.0],
/// };
/// let schema = Schema { input_shape: vec![2], task: Task::classes(3), preprocess };
/// let meta = metadata(&ModelSpec::parse("linear 8, relu, linear").unwrap(), &schema);
/// assert_eq!(meta["layers"], "linear 8, relu, linear");
/// assert!(meta["schema"].starts_with("{\"input_shape\":[2]"));
/// ```
pub fn metadata(spec: &ModelSpec, schema: &Schema) -> Metadata {
    Metadata::from([
        (LAYERS.to_string(), spec.to_string()),
        (
            SCHEMA.to_string(),
            serde_json::to_string(schema).expect("a schema encodes as JSON"),
        ),
    ])
}

/// A network rebuilt from a saved file, with its spec and the schema of its data.
pub struct SavedModel {
    /// The network with the saved weights, in evaluation mode.
    pub net: Sequential,
    pub spec: ModelSpec,
    pub schema: Schema,
}

impl SavedModel {
    /// Reads `model.safetensors` or `checkpoint.safetensors` (whose model tensors are named
    /// `model.` + their names) and rebuilds the network its metadata describes, in the dtype of
    /// its weights, in evaluation mode. A file without the metadata, with a spec or schema
    /// that does not parse, or with weights that do not fit the spec is refused naming the file.
    ///
    /// ```
    /// use nabla_core::{DType, Generator, Tensor};
    /// use nabla_nn::checkpoint::save_safetensors;
    /// use nabla_nn::data::{Preprocess, Schema};
    /// use nabla_nn::models::WeightInit;
    /// use nabla_nn::module::Module;
    /// use nabla_nn::saved::{SavedModel, metadata};
    /// use nabla_nn::spec::ModelSpec;
    /// use nabla_nn::task::Task;
    /// let preprocess = Preprocess::Table {
    ///     columns: vec!["x".into(), "y".into()],
    ///     target: "class".into(),
    ///     mean: vec![0.0, 0.0],
    ///     std: vec![1.0, 1.0],
    /// };
    /// let schema = Schema { input_shape: vec![2], task: Task::classes(3), preprocess };
    /// let spec = ModelSpec::parse("linear 8, relu, linear").unwrap();
    /// let net = spec.build(&[2], 3, WeightInit::He, DType::F32, &mut Generator::new(0)).unwrap();
    /// let path = std::env::temp_dir().join(format!("nabla-doc-saved-{}.safetensors", std::process::id()));
    /// save_safetensors(&path, &net.state_dict(), &metadata(&spec, &schema)).unwrap();
    /// let saved = SavedModel::load(&path).unwrap();
    /// let x = Tensor::ones(&[1, 2], DType::F32);
    /// assert_eq!(saved.net.forward(&x).to_vec::<f32>(), net.forward(&x).to_vec::<f32>());
    /// assert_eq!(saved.schema, schema);
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<SavedModel> {
        let path = path.as_ref();
        let fail = |message: String| Error::Format {
            path: path.to_path_buf(),
            message,
        };
        let (tensors, meta) = load_safetensors(path)?;
        let entry = |key: &str| {
            meta.get(key).ok_or_else(|| {
                fail(format!(
                    "no {key:?} in the file's metadata, so the model cannot be rebuilt from it \
                     (it was not saved by a training run of this version of nabla)"
                ))
            })
        };
        let spec = ModelSpec::parse(entry(LAYERS)?)
            .map_err(|e| fail(format!("the {LAYERS:?} metadata: {e}")))?;
        let schema: Schema = serde_json::from_str(entry(SCHEMA)?).map_err(|e| {
            fail(format!(
                "the {SCHEMA:?} metadata is not a valid schema: {e}"
            ))
        })?;
        let checkpoint = tensors.iter().any(|(n, _)| n.starts_with(MODEL_PREFIX));
        let state: Vec<(String, Tensor)> = if checkpoint {
            tensors
                .into_iter()
                .filter_map(|(n, t)| n.strip_prefix(MODEL_PREFIX).map(|n| (n.to_string(), t)))
                .collect()
        } else {
            tensors
        };
        let outputs = schema.task.outputs();
        let rows = spec
            .summary(&schema.input_shape, outputs)
            .map_err(|e| fail(e.to_string()))?;
        // The spec's size is checked against the numbers the file holds before anything is
        // allocated for it (parameters and running statistics; the step counters are integers).
        let (parameters, statistics) = crate::spec::totals(&rows);
        let needed = parameters.saturating_add(statistics);
        let held: usize = state
            .iter()
            .filter(|(_, t)| t.dtype().is_float())
            .map(|(_, t)| t.numel())
            .sum();
        if needed != held {
            return Err(fail(format!(
                "the weights do not fit the layers {:?}: they need {needed} numbers, the file \
                 holds {held}",
                spec.to_string()
            )));
        }
        let dtype = state
            .iter()
            .map(|(_, t)| t.dtype())
            .find(|d| d.is_float())
            .unwrap_or(DType::F32);
        let mut net = spec
            .build(
                &schema.input_shape,
                outputs,
                WeightInit::Default,
                dtype,
                &mut Generator::new(0),
            )
            .map_err(|e| fail(e.to_string()))?;
        net.load_state_dict(&state).map_err(|e| {
            fail(format!(
                "the weights do not fit the layers {:?}: {e}",
                spec.to_string()
            ))
        })?;
        net.set_training(false);
        Ok(SavedModel { net, spec, schema })
    }
}
