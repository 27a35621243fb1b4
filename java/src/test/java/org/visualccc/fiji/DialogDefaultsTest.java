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
        String[][] keys = {{"k", "k"}, {"grey", "grey"}, {"smoothed_grey", "smoothed"}, {"sigma", "sigma"},
            {"local_variance", "local_variance"}, {"variance_radius", "variance_radius"},
            {"learned_foreground", "foreground"}, {"position_weight", "position_weight"}, {"seed", "seed"},
            {"n_init", "n_init"}, {"max_iterations", "max_iterations"}, {"tolerance", "tolerance"}};
        Map<String, String> coreKey = new LinkedHashMap<String, String>();
        for (String[] pair : keys) {
            coreKey.put(pair[0], pair[1]);
        }
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
