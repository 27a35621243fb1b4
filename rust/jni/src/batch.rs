//! `org.visualccc.Batch`: the core's analysis defaults and batch engine
//! ([`visual_ccc_core::batch`]) for Fiji's *Batch Process Folder…* and *Analyze
//! Micrograph…*. Settings cross as one JSON string holding only what the user set; the
//! defaults come from the core as JSON.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use jni::objects::{JObject, JObjectArray, JString, JValue};
use jni::sys::jlong;
use jni::{jni_sig, jni_str, Env};
use serde_json::json;
use visual_ccc_core::batch::{self, BatchSettings, Outcome};

use crate::convert;
use crate::error::{BridgeError, BridgeResult};
use crate::export::native;
use crate::model;

/// One progress report, owned, sent from the engine's workers to the calling thread
/// (the only one that may call into Java).
struct Report {
    done: usize,
    total: usize,
    file: String,
    skipped: Option<String>,
    eta_s: f64,
}

fn defaults() -> String {
    json!({
        "batch": serde_json::from_str::<serde_json::Value>(&BatchSettings::defaults_json())
            .expect("core JSON"),
        "default_jobs": batch::default_jobs(),
    })
    .to_string()
}

fn intern_run<'local>(
    env: &mut Env<'local>,
    handle: jlong,
    settings: &JString<'_>,
    listener: &JObject<'_>,
    ort_library_path: &JString<'_>,
    ort_search_dirs: &JObjectArray<'_, JString<'_>>,
) -> BridgeResult<JString<'local>> {
    let model = model::model_ref(handle)?;
    let settings = BatchSettings::from_json(&convert::string(env, settings)?)?;
    let runtime = model::model_options(env, ort_library_path, ort_search_dirs, 0)?.runtime;
    let cancel = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel::<Report>();
    let result = std::thread::scope(|scope| -> BridgeResult<_> {
        let engine = scope.spawn(|| {
            let sender = sender;
            batch::run(&settings, model, &runtime, &cancel, &|p| {
                let _ = sender.send(Report {
                    done: p.done,
                    total: p.total,
                    file: p.file.to_string(),
                    skipped: match p.outcome {
                        Outcome::Skipped { reason } => Some(reason.clone()),
                        _ => None,
                    },
                    eta_s: p.eta_s.unwrap_or(f64::NAN),
                });
            })
        });
        // Until the engine drops its sender: tell Java, and stop when it asks to.
        for report in receiver {
            let stop = env.with_local_frame(8, |env| -> BridgeResult<bool> {
                let file = env.new_string(&report.file)?;
                let skipped = match &report.skipped {
                    Some(reason) => JObject::from(env.new_string(reason)?),
                    None => JObject::null(),
                };
                Ok(env
                    .call_method(
                        listener,
                        jni_str!("progress"),
                        jni_sig!("(IILjava/lang/String;Ljava/lang/String;D)Z"),
                        &[
                            JValue::Int(report.done as i32),
                            JValue::Int(report.total as i32),
                            JValue::Object(&file),
                            JValue::Object(&skipped),
                            JValue::Double(report.eta_s),
                        ],
                    )?
                    .z()?)
            });
            // A Java exception in the listener also stops the run; it is rethrown below.
            if !matches!(stop, Ok(false)) {
                cancel.store(true, Ordering::Relaxed);
            }
            if let Err(error) = stop {
                let _ = engine.join();
                return Err(error);
            }
        }
        engine
            .join()
            .map_err(|_| BridgeError::InvalidArgument("the batch engine panicked".into()))
    })?;
    let report = result?;
    Ok(env.new_string(json!(report).to_string())?)
}

native! {
    fn Java_org_visualccc_Batch_nativeDefaults(env) -> JString<'local> {
        Ok(env.new_string(defaults())?)
    }
}

native! {
    fn Java_org_visualccc_Batch_nativeRun(env, handle: jlong, settings: JString<'local>,
        listener: JObject<'local>, ort_library_path: JString<'local>,
        ort_search_dirs: JObjectArray<'local, JString<'local>>) -> JString<'local> {
        intern_run(env, handle, &settings, &listener, &ort_library_path, &ort_search_dirs)
    }
}

native! {
    fn Java_org_visualccc_Batch_nativeMerge(env, output: JString<'local>) -> JString<'local> {
        let output = convert::string(env, &output)?;
        let report = batch::merge(std::path::Path::new(&output))?;
        Ok(env.new_string(json!(report).to_string())?)
    }
}
