package org.visualccc;

import java.util.Map;

/**
 * The core's published analysis recipe and batch engine: its defaults (the single
 * definition every dialog reads), a batch run over a folder, and merging shard summaries.
 * Settings go to the core as one JSON object holding only what the user set; see
 * {@code visual_ccc_core::batch::BatchSettings} and {@code pipeline::AnalysisParams}.
 */
public final class Batch {
    private Batch() {
    }

    /** Told after each file, on the calling thread; return true to stop after the images in progress. */
    public interface Listener {
        /**
         * @param done          files handled so far
         * @param total         files of this run
         * @param file          the file just handled (relative path)
         * @param skippedReason why the file was skipped, or null
         * @param etaSeconds    estimated seconds left, NaN before the first analysed image
         */
        boolean progress(int done, int total, String file, String skippedReason, double etaSeconds);
    }

    /** The core's batch defaults: {@code {"batch": {...}, "default_jobs": n}} (the recipe's are {@link Analysis#defaults()}). */
    public static Map<String, Object> defaults() {
        return CoreDefaults.of("batch", Batch::nativeDefaults);
    }

    /** A default of the analysis recipe ({@code k}, {@code seed}, ...; see {@link Analysis#defaults()}). */
    public static Object analysisDefault(String key) {
        return Analysis.defaults().get(key);
    }

    /** A default of the batch settings ({@code pattern}, {@code save_heatmaps}, ...). */
    @SuppressWarnings("unchecked")
    public static Object batchDefault(String key) {
        return ((Map<String, Object>) defaults().get("batch")).get(key);
    }

    /**
     * Runs the batch engine with {@code model} (shared by all workers).
     *
     * @param settingsJson the settings the user set, as JSON
     * @return the run's report, parsed
     * @throws IllegalArgumentException for bad settings (the message names the field)
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> run(Model model, String settingsJson, Listener listener) {
        NativeLoader.load();
        Listener told = listener != null ? listener : (d, t, f, s, e) -> false;
        String report = model.withHandle(h -> nativeRun(h, settingsJson, told, Model.onnxRuntimeProperty(),
                Model.onnxRuntimeSearchDirs()));
        return (Map<String, Object>) Json.parse(report);
    }

    /** Joins {@code output/parts/summary-I-of-N.csv} into one summary; returns the report. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> merge(String output) {
        NativeLoader.load();
        return (Map<String, Object>) Json.parse(nativeMerge(output));
    }

    private static native String nativeDefaults();

    private static native String nativeRun(long handle, String settingsJson, Listener listener, String ortLibrary,
            String[] ortSearchDirs);

    private static native String nativeMerge(String output);
}
