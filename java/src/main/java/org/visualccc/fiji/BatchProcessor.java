package org.visualccc.fiji;

import org.visualccc.Batch;
import org.visualccc.BundledModels;
import org.visualccc.Json;
import org.visualccc.KMeans;
import org.visualccc.Model;
import org.visualccc.VisualCccException;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The work of Plugins › Visual-CCC › Batch Process Folder..., without any GUI: the core's
 * batch engine ({@code visual_ccc_core::batch}, the same as {@code visual-ccc batch}) runs
 * the published recipe (classification with the CAM of the predicted class, k-means
 * clustering, whole-image GLCM texture) on every image file under an input folder. The
 * output folder receives
 * <ul>
 * <li>{@value #SUMMARY_FILE}: one row per image, sorted by file: {@code File} (path relative
 * to the input folder), {@code Width}, {@code Height}, {@code Slices}, {@code Model},
 * {@code Class}, {@code P(<class>)} per class, {@code Fraction cluster <i>} per cluster
 * (labels ordered by mean grey, 0 = darkest), {@code Area unit}, {@code Area cluster <i>}
 * (in the calibration a TIFF records, as ImageJ saves it; else in pixels),
 * the whole-image texture values, then {@code Heatmap} and {@code Labels} (output paths
 * relative to the output folder, empty when not saved);</li>
 * <li>{@code heatmaps/<relative path>-CAM.tif} (32-bit CAM) and
 * {@code labels/<relative path>-clusters.tif} (8-bit cluster labels);</li>
 * <li>{@value #SKIPPED_FILE}: {@code File,Reason} for each file that could not be read in
 * the last run.</li>
 * </ul>
 * Multi-page files are analysed on their first page. Several images are processed at once,
 * sharing one model.
 *
 * <p><b>Resumable and cancel-safe.</b> Outputs are written under temporary names and
 * renamed; an image's row is appended only after all its outputs are in place, so a later
 * run with the same settings skips every file that has a row, and a cancelled or killed
 * run leaves only complete outputs and rows. A summary written with other settings is
 * refused rather than mixed. Every default comes from the core ({@link Batch#defaults()}).
 */
public final class BatchProcessor {
    /** The summary table in the output folder. */
    public static final String SUMMARY_FILE = "visual-ccc-summary.csv";
    /** The list of skipped files in the output folder. */
    public static final String SKIPPED_FILE = "visual-ccc-skipped.csv";
    /** Default file pattern: the image formats the core reads. */
    public static final String DEFAULT_PATTERN = (String) Batch.batchDefault("pattern");
    /** The steps timed in {@link Summary#stepSeconds}. */
    public static final String[] STEPS = {"decode", "analyse", "write"};

    private BatchProcessor() {
    }

    /**
     * What to process and how; a mutable builder. Only what is set here is sent to the
     * core; everything else takes the core's default.
     */
    public static final class Settings {
        private File input;
        private File output;
        private Boolean recursive;
        private String pattern;
        private String model = BundledModels.FIXTURE_TINY;
        private Integer k;
        private Boolean saveHeatmaps;
        private Boolean saveLabels;
        private Integer jobs;
        private int[] shard;

        public Settings input(File input) {
            this.input = input;
            return this;
        }

        public Settings output(File output) {
            this.output = output;
            return this;
        }

        /** Also process files in sub-folders (the output folder is always left out). */
        public Settings recursive(boolean recursive) {
            this.recursive = recursive;
            return this;
        }

        /**
         * A glob matched against file names, case-insensitively ({@code *.tif},
         * {@code cell_*.{png,jpg}}); empty means {@link #DEFAULT_PATTERN}.
         */
        public Settings pattern(String pattern) {
            this.pattern = pattern == null || pattern.trim().isEmpty() ? null : pattern.trim();
            return this;
        }

        /** A model file, or a label/name understood by {@link ClassifyMorphology#resolveModel}. */
        public Settings model(String model) {
            this.model = model;
            return this;
        }

        /** Number of clusters. */
        public Settings k(int k) {
            this.k = k;
            return this;
        }

        /** k-means settings: the batch recipe uses their number of clusters. */
        public Settings clustering(KMeans.Params clustering) {
            return k(clustering.k());
        }

        public Settings saveHeatmaps(boolean saveHeatmaps) {
            this.saveHeatmaps = saveHeatmaps;
            return this;
        }

        public Settings saveLabels(boolean saveLabels) {
            this.saveLabels = saveLabels;
            return this;
        }

        /** Images processed at once (default: one per core). */
        public Settings jobs(int jobs) {
            this.jobs = jobs;
            return this;
        }

        /**
         * Only shard {@code I} of {@code N} ({@code "I/N"}: the sorted files whose index mod N
         * is I; summary in {@code parts/summary-I-of-N.csv}); empty = every file.
         */
        public Settings shard(String shard) {
            if (shard == null || shard.trim().isEmpty()) {
                this.shard = null;
                return this;
            }
            String[] parts = shard.trim().split("/");
            try {
                this.shard = new int[] {Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim())};
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("shard: expected I/N (e.g. 0/4), got '" + shard + "'");
            }
            return this;
        }

        /** The settings the user set, as the core's JSON. */
        String toJson() {
            if (input == null) {
                throw new IllegalArgumentException("no input folder given");
            }
            if (output == null || output.getPath().isEmpty()) {
                throw new IllegalArgumentException("no output folder given");
            }
            StringBuilder json = new StringBuilder("{\"input\":").append(Json.quote(input.getPath()))
                    .append(",\"output\":").append(Json.quote(output.getPath()));
            if (recursive != null) {
                json.append(",\"recursive\":").append(recursive);
            }
            if (pattern != null) {
                json.append(",\"pattern\":").append(Json.quote(pattern));
            }
            if (saveHeatmaps != null) {
                json.append(",\"save_heatmaps\":").append(saveHeatmaps);
            }
            if (saveLabels != null) {
                json.append(",\"save_labels\":").append(saveLabels);
            }
            if (jobs != null) {
                json.append(",\"jobs\":").append(jobs);
            }
            if (shard != null) {
                json.append(",\"shard\":{\"index\":").append(shard[0]).append(",\"count\":").append(shard[1])
                        .append('}');
            }
            if (k != null) {
                json.append(",\"analysis\":{\"k\":").append(k).append('}');
            }
            return json.append('}').toString();
        }
    }

    /** A file that could not be processed, and why. */
    public static final class Skip {
        public final String file;
        public final String reason;

        Skip(String file, String reason) {
            this.file = file;
            this.reason = reason;
        }

        @Override
        public String toString() {
            return file + ": " + reason;
        }
    }

    /** What a run did. */
    public static final class Summary {
        /** Files matching the pattern. */
        public int found;
        /** Files processed in this run. */
        public int processed;
        /** Files skipped because an earlier run finished them. */
        public int alreadyDone;
        /** Files that could not be read or analysed. */
        public final List<Skip> skipped = new ArrayList<Skip>();
        /** Whether the run was cancelled before the end. */
        public boolean cancelled;
        /** Wall time of the run in seconds. */
        public double seconds;
        /** The summary table. */
        public File summaryFile;
        /** The model's label (as in the Model column). */
        public String model;
        /** Whether the model is an untrained test fixture, whose predictions mean nothing. */
        public boolean fixtureModel;
        /** Seconds spent per step, summed over the workers: decode, analyse, write. */
        public final double[] stepSeconds = new double[STEPS.length];

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d found, %d processed, %d already done, %d skipped%s in %.1f s",
                    found, processed, alreadyDone, skipped.size(), cancelled ? ", cancelled" : "", seconds);
        }

        /** Seconds per step, e.g. {@code decode 0.7 s, analyse 2.1 s, write 0.1 s}. */
        public String stepTimes() {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < STEPS.length; i++) {
                text.append(i == 0 ? "" : ", ").append(STEPS[i])
                        .append(String.format(Locale.ROOT, " %.2f s", stepSeconds[i]));
            }
            return text.toString();
        }
    }

    /** Told after each file. */
    public interface Listener {
        /**
         * @param done       files handled so far (processed, already done or skipped)
         * @param total      files found
         * @param file       the file just handled (relative path)
         * @param etaSeconds estimated seconds left, or NaN before the first processed file
         */
        void progress(int done, int total, String file, double etaSeconds);
    }

    /**
     * Processes the folder.
     *
     * @param cancel   asked after each file; true stops the run cleanly (may be null)
     * @param listener told after each file (may be null)
     * @throws IllegalArgumentException for bad settings, or an output folder holding a summary
     *                                  made with other settings
     * @throws IOException              if the output folder cannot be written
     */
    @SuppressWarnings("unchecked")
    public static Summary run(Settings settings, BooleanSupplier cancel, Listener listener) throws IOException {
        String json = settings.toJson();
        File modelFile = ClassifyMorphology.resolveModel(settings.model);
        if (!modelFile.isFile()) {
            throw new IllegalArgumentException("model file " + modelFile.getPath() + " does not exist");
        }
        Map<String, Object> report;
        try (Model model = Model.open(modelFile.getPath())) {
            report = Batch.run(model, json, (done, total, file, skipped, eta) -> {
                if (listener != null) {
                    listener.progress(done, total, file, eta);
                }
                return cancel != null && cancel.getAsBoolean();
            });
        } catch (VisualCccException e) {
            if (e.kind() == VisualCccException.Kind.IO) {
                throw new IOException(e.getMessage(), e);
            }
            throw e;
        }
        Summary summary = new Summary();
        summary.found = count(report, "found");
        summary.processed = count(report, "processed");
        summary.alreadyDone = count(report, "already_done");
        for (Object o : (List<Object>) report.get("skipped")) {
            Map<String, Object> skip = (Map<String, Object>) o;
            summary.skipped.add(new Skip((String) skip.get("file"), (String) skip.get("reason")));
        }
        summary.cancelled = Boolean.TRUE.equals(report.get("cancelled"));
        summary.seconds = ((Number) report.get("seconds")).doubleValue();
        summary.summaryFile = new File((String) report.get("summary"));
        summary.model = (String) report.get("model");
        summary.fixtureModel = Boolean.TRUE.equals(report.get("fixture_model"));
        List<Object> steps = (List<Object>) report.get("stage_seconds");
        for (int i = 0; i < STEPS.length; i++) {
            summary.stepSeconds[i] = ((Number) steps.get(i)).doubleValue();
        }
        return summary;
    }

    private static int count(Map<String, Object> report, String key) {
        return ((Number) report.get(key)).intValue();
    }
}
