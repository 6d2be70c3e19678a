//! The setting `nabla compare` varies, and the configuration of each run: the shared settings
//! with the one setting replaced by each value (so defaults that follow it, such as the
//! optimiser's learning rate, follow it too).

use crate::CliResult;
use crate::commands::train::config::{InitKind, OptimizerKind, TrainConfig};
use crate::commands::train::{HiddenArg, SettingsArgs};
use clap::ValueEnum;
use serde::Serialize;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Setting {
    Optimizer,
    Init,
    Activation,
    /// Values `on`, `off`.
    BatchNorm,
    Lr,
}

impl Setting {
    /// The setting as named on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Optimizer => "optimizer",
            Setting::Init => "init",
            Setting::Activation => "activation",
            Setting::BatchNorm => "batch-norm",
            Setting::Lr => "lr",
        }
    }
}

/// A command-line value of a `ValueEnum`, with the accepted ones in the error.
fn parse_enum<T: ValueEnum>(setting: Setting, value: &str) -> Result<T, String> {
    T::from_str(value, true).map_err(|_| {
        let accepted: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!(
            "--values: `{value}` is not a valid {} (expected one of {})",
            setting.name(),
            accepted.join(", ")
        )
    })
}

fn apply(setting: Setting, value: &str, settings: &mut SettingsArgs) -> Result<(), String> {
    match setting {
        Setting::Optimizer => settings.optimizer = parse_enum::<OptimizerKind>(setting, value)?,
        Setting::Init => settings.init = parse_enum::<InitKind>(setting, value)?,
        Setting::Activation => settings.activation = parse_enum::<HiddenArg>(setting, value)?,
        Setting::BatchNorm => {
            settings.batch_norm = match value {
                "on" => true,
                "off" => false,
                _ => {
                    return Err(format!(
                        "--values: `{value}` is not a valid batch-norm (expected on or off)"
                    ));
                }
            }
        }
        Setting::Lr => {
            settings.lr = Some(value.parse().map_err(|_| {
                format!("--values: `{value}` is not a valid lr (expected a number)")
            })?)
        }
    }
    Ok(())
}

/// One validated configuration per value, in order.
pub fn configs(
    setting: Setting,
    values: &[String],
    settings: &SettingsArgs,
) -> CliResult<Vec<TrainConfig>> {
    if let Some((i, v)) = values
        .iter()
        .enumerate()
        .find(|(i, v)| values[..*i].contains(v))
    {
        return Err(format!("--values: `{v}` is given twice (value {})", i + 1).into());
    }
    if settings.layers.is_some() && matches!(setting, Setting::Activation | Setting::BatchNorm) {
        return Err(format!(
            "--vary {} changes the --hidden network, which --layers replaces; vary the \
             activations or batch norm by writing them in --layers of separate runs",
            setting.name()
        )
        .into());
    }
    values
        .iter()
        .map(|value| {
            let mut run = settings.clone();
            apply(setting, value, &mut run)?;
            let config = run
                .config()
                .and_then(|c| c.validate().map(|()| c))
                .map_err(|e| format!("{} {value}: {e}", setting.name()))?;
            Ok(config)
        })
        .collect()
}
