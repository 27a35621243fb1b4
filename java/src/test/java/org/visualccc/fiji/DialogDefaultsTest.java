package org.visualccc.fiji;

import org.junit.Test;
import org.visualccc.KMeans;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.Assert.assertEquals;

/**
 * Every default a dialog shows is the core's: the test fails if a dialog default and the
 * core default differ (knowledge in one place).
 */
public class DialogDefaultsTest {
    @Test
    public void clusterDialogShowsTheCoreDefaults() {
        // Macro key of the dialog -> key of the core's ClusterSettings.
        Map<String, String> coreKey = new LinkedHashMap<String, String>();
        coreKey.put("k", "k");
        coreKey.put("grey", "grey");
        coreKey.put("smoothed_grey", "smoothed");
        coreKey.put("sigma", "sigma");
        coreKey.put("local_variance", "local_variance");
        coreKey.put("variance_radius", "variance_radius");
        coreKey.put("learned_foreground", "foreground");
        coreKey.put("position_weight", "position_weight");
        coreKey.put("seed", "seed");
        coreKey.put("n_init", "n_init");
        coreKey.put("max_iterations", "max_iterations");
        coreKey.put("tolerance", "tolerance");
        Map<String, Object> dialog = ClusterKMeans.dialogDefaults();
        Map<String, Object> core = KMeans.defaults();
        assertEquals(coreKey.keySet(), dialog.keySet());
        for (Map.Entry<String, String> key : coreKey.entrySet()) {
            Object shown = dialog.get(key.getKey());
            Object expected = core.get(key.getValue());
            if (expected instanceof Number) {
                assertEquals(key.getKey(), ((Number) expected).doubleValue(), ((Number) shown).doubleValue(), 0);
            } else {
                assertEquals(key.getKey(), expected, shown);
            }
        }
    }
}
