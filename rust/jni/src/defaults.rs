//! The core's defaults of operations whose Java builders are not JSON-based yet, as JSON
//! for `org.visualccc.CoreDefaults`: texture (`Texture.Params`, the Texture dialog) and
//! whole-image tiling (the Morphology Map dialog).

use jni::objects::JString;
use visual_ccc_core::analysis::glcm::TextureParams;
use visual_ccc_core::model::tiling::TilingOptions;

use crate::export::native;

native! {
    /// `Texture.nativeDefaults()`: see [`TextureParams::defaults_json`].
    fn Java_org_visualccc_Texture_nativeDefaults(env) -> JString<'local> {
        Ok(env.new_string(TextureParams::defaults_json())?)
    }
}

native! {
    /// `Model.nativeTilingDefaults()`: see [`TilingOptions::defaults_json`].
    fn Java_org_visualccc_Model_nativeTilingDefaults(env) -> JString<'local> {
        Ok(env.new_string(TilingOptions::defaults_json())?)
    }
}
