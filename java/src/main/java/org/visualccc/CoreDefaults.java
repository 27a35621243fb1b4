package org.visualccc;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The core's defaults for an operation, read once from the native library as JSON and
 * kept: the one place Java gets a default from (dialogs and builders never restate one).
 */
final class CoreDefaults {
    private static final Map<String, Map<String, Object>> CACHE = new HashMap<String, Map<String, Object>>();

    private CoreDefaults() {
    }

    /**
     * The JSON object {@code json} returns (called once per {@code operation}, after
     * loading the native library), as an unmodifiable map.
     */
    @SuppressWarnings("unchecked")
    static synchronized Map<String, Object> of(String operation, Supplier<String> json) {
        Map<String, Object> defaults = CACHE.get(operation);
        if (defaults == null) {
            NativeLoader.load();
            defaults = Collections.unmodifiableMap((Map<String, Object>) Json.parse(json.get()));
            CACHE.put(operation, defaults);
        }
        return defaults;
    }
}
