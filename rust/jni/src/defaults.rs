//! The core's defaults of operations whose Java builders are not JSON-based yet, as JSON
//! for `org.visualccc.CoreDefaults`: texture (`Texture.Params`, the Texture dialog) and
//! whole-image tiling (the Morphology Map dialog).

use jni::objects::{JClass, JString};
use jni::EnvUnowned;
use visual_ccc_core::analysis::glcm::TextureParams;
use visual_ccc_core::model::tiling::TilingOptions;

use crate::error::{BridgeResult, ThrowJavaException};

/// `Texture.nativeDefaults()`: see [`TextureParams::defaults_json`].
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Texture_nativeDefaults<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    env.with_env(|env| -> BridgeResult<JString<'local>> {
        Ok(env.new_string(TextureParams::defaults_json())?)
    })
    .resolve::<ThrowJavaException>()
}

/// `Model.nativeTilingDefaults()`: see [`TilingOptions::defaults_json`].
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeTilingDefaults<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    env.with_env(|env| -> BridgeResult<JString<'local>> {
        Ok(env.new_string(TilingOptions::defaults_json())?)
    })
    .resolve::<ThrowJavaException>()
}
