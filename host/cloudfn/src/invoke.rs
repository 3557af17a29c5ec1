//! `cloudfn invoke`: call one exported function of a component's typed
//! interface, with arguments and results in WAVE, the WebAssembly Value
//! Encoding (`"text"`, `42`, `[1, 2]`, `{name: "x"}`, `some(1)`, `ok("y")`).

use cloudfn_engine::watchdog::Watchdog;
use cloudfn_engine::{Interruption, LoadedComponent, Runtime};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Type, Val};

/// Errors of an invocation.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// No exported function matches.
    #[error("component `{component}` exports no function `{function}`; it exports: {available}")]
    NoSuchFunction {
        /// Component id.
        component: String,
        /// What was asked for.
        function: String,
        /// What exists.
        available: String,
    },
    /// More than one interface exports that function name.
    #[error("`{function}` is ambiguous; name the interface: {candidates}")]
    Ambiguous {
        /// What was asked for.
        function: String,
        /// Qualified candidates.
        candidates: String,
    },
    /// Wrong number of arguments.
    #[error("`{function}` takes {expected} argument(s) ({signature}), {given} given")]
    Arity {
        /// Function name.
        function: String,
        /// Parameter count.
        expected: usize,
        /// Argument count.
        given: usize,
        /// Parameter names and types.
        signature: String,
    },
    /// An argument is not valid WAVE for its type.
    #[error("argument `{name}` ({ty}): {message}")]
    BadArgument {
        /// Parameter name.
        name: String,
        /// WAVE type.
        ty: String,
        /// Parser message.
        message: String,
    },
    /// Instantiation or the call failed (trap, timeout, memory limit).
    #[error("calling `{function}` failed: {message}")]
    Call {
        /// Function name.
        function: String,
        /// What happened.
        message: String,
    },
}

/// An exported function: `(interface or None, function name)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFunction {
    /// The exporting instance (`cloudfn:image/filter@0.1.0`), or `None` for a root export.
    pub interface: Option<String>,
    /// The function name.
    pub name: String,
}

impl std::fmt::Display for ExportedFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.interface {
            Some(i) => write!(f, "{i}#{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Every function the component exports, root-level and in exported instances.
pub fn exported_functions(runtime: &Runtime, component: &LoadedComponent) -> Vec<ExportedFunction> {
    let engine = runtime.engine();
    let mut out = Vec::new();
    for (name, item) in component.component.component_type().exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(_) => out.push(ExportedFunction {
                interface: None,
                name: name.to_owned(),
            }),
            ComponentItem::ComponentInstance(instance) => {
                for (fname, item) in instance.exports(engine) {
                    if let ComponentItem::ComponentFunc(_) = item.ty {
                        out.push(ExportedFunction {
                            interface: Some(name.to_owned()),
                            name: fname.to_owned(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Finds `spec` among the exports: `iface#func`, `iface/func`-style suffixes
/// (`filter#apply` matches `cloudfn:image/filter@0.1.0#apply`), or a bare name.
pub fn resolve(
    runtime: &Runtime,
    component: &LoadedComponent,
    spec: &str,
) -> Result<ExportedFunction, InvokeError> {
    let all = exported_functions(runtime, component);
    let (iface, name) = match spec.rsplit_once(['#', '.']) {
        Some((i, n)) => (Some(i), n),
        None => (None, spec),
    };
    let matches: Vec<&ExportedFunction> = all
        .iter()
        .filter(|f| f.name == name)
        .filter(|f| match (iface, &f.interface) {
            (None, _) => true,
            (Some(want), Some(have)) => {
                have == want
                    || have.split('@').next() == Some(want)
                    || have.split('@').next().and_then(|h| h.rsplit('/').next()) == Some(want)
            }
            (Some(_), None) => false,
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(InvokeError::NoSuchFunction {
            component: component.id.clone(),
            function: spec.to_owned(),
            available: all
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }),
        many => Err(InvokeError::Ambiguous {
            function: spec.to_owned(),
            candidates: many
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Calls `spec` with WAVE `args` in a fresh instance; returns each result in WAVE.
///
/// With a runtime of [`Interruption::Process`] (what `cloudfn invoke` uses:
/// one call per process, guest code without epoch checks), a call that
/// overruns the timeout ends the process with
/// [`TIMEOUT_STATUS`](cloudfn_engine::watchdog::TIMEOUT_STATUS); with
/// [`Interruption::Epoch`] it returns [`InvokeError::Call`].
pub async fn invoke(
    runtime: &Runtime,
    component: &LoadedComponent,
    spec: &str,
    args: &[String],
) -> Result<Vec<String>, InvokeError> {
    let function = resolve(runtime, component, spec)?;
    let call_err = |message: String| InvokeError::Call {
        function: function.to_string(),
        message,
    };
    let mut store = runtime
        .new_store(component)
        .map_err(|e| call_err(format!("{e:#}")))?;
    let watchdog = match runtime.interruption() {
        Interruption::Process => {
            let watchdog = Watchdog::start(runtime.limits().timeout, format!("`{function}`"))
                .map_err(|e| call_err(format!("cannot start the watchdog: {e}")))?;
            // Instantiation runs guest code too.
            watchdog.call_started();
            Some(watchdog)
        }
        Interruption::Epoch => None,
    };
    let instance = component
        .instance_pre
        .instantiate_async(&mut store)
        .await
        .map_err(|e| call_err(format!("{e:#}")))?;
    let parent = match &function.interface {
        Some(i) => instance.get_export_index(&mut store, None, i),
        None => None,
    };
    let func = instance
        .get_export_index(&mut store, parent.as_ref(), &function.name)
        .and_then(|index| instance.get_func(&mut store, index))
        .ok_or_else(|| call_err("export disappeared".into()))?;
    let ty = func.ty(&store);
    let params: Vec<(String, Type)> = ty.params().map(|(n, t)| (n.to_owned(), t)).collect();
    if params.len() != args.len() {
        return Err(InvokeError::Arity {
            function: function.to_string(),
            expected: params.len(),
            given: args.len(),
            signature: params
                .iter()
                .map(|(n, t)| format!("{n}: {}", type_name(t)))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let values = params
        .iter()
        .zip(args)
        .map(|((name, ty), arg)| {
            wasm_wave::from_str::<Val>(ty, arg).map_err(|e| InvokeError::BadArgument {
                name: name.clone(),
                ty: type_name(ty),
                message: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut results = vec![Val::Bool(false); ty.results().len()];
    let timeout = runtime.limits().timeout;
    match tokio::time::timeout(timeout, func.call_async(&mut store, &values, &mut results)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) if store.data().limiter.usage().limit_hit() => {
            return Err(call_err(format!(
                "memory limit exceeded (--max-memory): {e:#}"
            )));
        }
        Ok(Err(e)) => return Err(call_err(format!("{e:#}"))),
        Err(_) => return Err(call_err(format!("timed out after {timeout:?} (--timeout)"))),
    }
    if let Some(watchdog) = &watchdog {
        watchdog.call_ended();
    }
    results
        .iter()
        .map(|v| wasm_wave::to_string(v).map_err(|e| call_err(format!("cannot print result: {e}"))))
        .collect()
}

fn type_name(ty: &Type) -> String {
    format!("{ty:?}")
        .split('(')
        .next()
        .unwrap_or("value")
        .to_ascii_lowercase()
}
