package org.visualccc.fiji;

import org.junit.Test;
import org.visualccc.KMeans;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.Assert.assertArrayEquals;
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

    @Test
    public void batchDialogShowsTheCoreDefaults() {
        // Macro key of Batch Process Folder's dialog -> the core's batch (or analysis) setting.
        Map<String, Object> dialog = BatchProcessFolder.dialogDefaults();
        assertEquals(org.visualccc.Batch.batchDefault("recursive"), dialog.get("recursive"));
        assertEquals(org.visualccc.Batch.batchDefault("pattern"), dialog.get("file_pattern"));
        assertEquals(org.visualccc.Batch.batchDefault("save_heatmaps"), dialog.get("save_heatmaps"));
        assertEquals(org.visualccc.Batch.batchDefault("save_labels"), dialog.get("save_label_images"));
        assertEquals(((Number) org.visualccc.Batch.analysisDefault("k")).intValue(), dialog.get("k"));
    }

    @Test
    public void preprocessDialogShowsTheCoreDefaults() {
        Map<String, Object> dialog = Preprocess.dialogDefaults(null);
        Map<String, Object> core = org.visualccc.Filters.defaults();
        String[][] keys = {{"radius", "radius"}, {"sigma", "sigma"}, {"tiles", "tiles"},
            {"clip_limit", "clip_limit"}, {"rolling", "rolling"}, {"saturated", "saturated"}};
        for (String[] pair : keys) {
            assertEquals(pair[0], ((Number) core.get(pair[1])).doubleValue(),
                    ((Number) dialog.get(pair[0])).doubleValue(), 0);
        }
        assertEquals(core.get("light"), dialog.get("light"));
        assertEquals(core.get("sigma"), core.get("bilateral_sigma"));
        assertEquals(((Number) core.get("range_fraction")).doubleValue() * 255,
                ((Number) dialog.get("sigma_range")).doubleValue(), 1e-12);
    }

    @Test
    public void textureDialogShowsTheCoreDefaults() {
        Map<String, Object> dialog = TextureGlcm.dialogDefaults();
        Map<String, Object> core = org.visualccc.Texture.defaults();
        assertEquals(((Number) core.get("window")).intValue(), dialog.get("window"));
        assertEquals(((Number) core.get("levels")).intValue(), dialog.get("levels"));
        assertEquals(core.get("average_angles"), dialog.get("average_angles"));
        assertEquals(core.get("symmetric"), dialog.get("symmetric"));
        java.util.List<?> features = (java.util.List<?>) core.get("features");
        for (String feature : org.visualccc.Texture.FEATURES) {
            assertEquals(feature, features.contains(feature), dialog.get(feature));
        }
        assertArrayEquals(numbers((java.util.List<?>) core.get("distances")),
                TextureGlcm.parseDoubles("Distances", (String) dialog.get("distances")), 0);
        assertArrayEquals(numbers((java.util.List<?>) core.get("angles")),
                TextureGlcm.parseDoubles("Angles", (String) dialog.get("angles")), 0);
        assertEquals(core.get("quantization"),
                ((String) dialog.get("quantization")).replace("-", "").toLowerCase(java.util.Locale.ROOT));
    }

    private static double[] numbers(java.util.List<?> list) {
        double[] values = new double[list.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = ((Number) list.get(i)).doubleValue();
        }
        return values;
    }
}
