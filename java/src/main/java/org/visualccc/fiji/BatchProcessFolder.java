package org.visualccc.fiji;

import ij.IJ;
import ij.plugin.PlugIn;
import org.visualccc.Batch;

import java.io.File;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Plugins › Visual-CCC › Batch Process Folder...: classifies, clusters and measures every
 * image of a folder into an output folder (summary CSV, CAM heat maps, cluster label
 * images); see {@link BatchProcessor} for the outputs and the resume/cancel guarantees.
 * Needs no open image, so it runs from headless macros:
 * <pre>
 * run("Batch Process Folder...", "input=/data/sem output=/data/sem-out recursive file_pattern=*.tif model=[fixture-tiny (untrained test fixture)] k=3 save_heatmaps save_label_images");
 * </pre>
 * Keys: {@code input}, {@code output} (folders), {@code recursive}, {@code file_pattern}
 * (glob on file names, case-insensitive; empty = the formats ImageJ opens), {@code model}
 * (a choice, as in Classify Morphology) or {@code model_file} (wins when non-empty),
 * {@code k} (clusters), {@code save_heatmaps}, {@code save_label_images}, {@code shard}
 * ({@code I/N}: one shard of a cluster job array, see scripts/slurm/). Progress and ETA
 * show in the status bar; Esc stops after the images in progress. Skipped files and the totals
 * are logged.
 *
 * <p>Scripting: {@link #process(BatchProcessor.Settings)} (progress, Esc and log) or
 * {@link BatchProcessor#run} (no GUI at all).
 */
public class BatchProcessFolder implements PlugIn {
    @Override
    public void run(String arg) {
        ModelField modelField = new ModelField();
        CommandDialog dialog = new CommandDialog("Visual-CCC: Batch Process Folder", "visualccc.batch.")
                .directory("Input", "")
                .directory("Output", "")
                .checkbox("Recursive", (Boolean) dialogDefaults().get("recursive"))
                .string("File_pattern", (String) dialogDefaults().get("file_pattern"), 24);
        modelField.addTo(dialog);
        dialog.number("k", (Integer) dialogDefaults().get("k"), 0, "clusters")
                .checkbox("Save_heatmaps", (Boolean) dialogDefaults().get("save_heatmaps"))
                .checkbox("Save_label_images", (Boolean) dialogDefaults().get("save_label_images"))
                .string("Shard", "", 8)
                .message("Esc stops after the images in progress; running again resumes.");
        if (!dialog.show()) {
            return;
        }
        CommandSupport.guarded(() -> {
            BatchProcessor.Settings settings = new BatchProcessor.Settings()
                    .input(new File(dialog.nextString()))
                    .output(new File(dialog.nextString()))
                    .recursive(dialog.nextBoolean())
                    .pattern(dialog.nextString());
            settings.model(modelField.read(dialog))
                    .k(dialog.nextInt())
                    .saveHeatmaps(dialog.nextBoolean())
                    .saveLabels(dialog.nextBoolean())
                    .shard(dialog.nextString());
            process(settings);
        });
    }

    /**
     * Runs {@link BatchProcessor#run} with progress and ETA in ImageJ's status bar, Esc to
     * stop, and the totals and skipped files in the log.
     *
     * @throws IllegalArgumentException for bad settings
     * @throws IllegalStateException    if the output folder cannot be written
     */
    public static BatchProcessor.Summary process(BatchProcessor.Settings settings) {
        IJ.resetEscape();
        BatchProcessor.Summary summary;
        try {
            summary = BatchProcessor.run(settings, IJ::escapePressed, (done, total, file, eta) -> {
                IJ.showProgress(done, total);
                IJ.showStatus("Visual-CCC batch: " + done + "/" + total + " " + file
                        + (Double.isNaN(eta) ? "" : ", " + duration(eta) + " left"));
            });
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the output folder: " + e.getMessage(), e);
        } finally {
            IJ.showProgress(1.0);
        }
        if (summary.fixtureModel) {
            IJ.log("Visual-CCC batch: " + summary.model + " is an untrained test fixture; its classes mean nothing.");
        }
        for (BatchProcessor.Skip skip : summary.skipped) {
            IJ.log("Visual-CCC batch: skipped " + skip);
        }
        IJ.log("Visual-CCC batch: " + summary + "; summary in " + summary.summaryFile);
        if (summary.processed > 0) {
            IJ.log("Visual-CCC batch: time per step: " + summary.stepTimes());
        }
        IJ.showStatus(summary.cancelled ? "Visual-CCC batch: cancelled" : "Visual-CCC batch: done");
        return summary;
    }

    /**
     * Joins the shard summaries of runs with {@code shard=I/N} into the output folder's
     * summary (for a cluster's merge job:
     * {@code call("org.visualccc.fiji.BatchProcessFolder.merge", output)}); returns the
     * core's report as JSON text.
     */
    public static String merge(String output) {
        Map<String, Object> report = Batch.merge(output);
        IJ.log("Visual-CCC batch: merged " + report.get("shards") + " shards, " + report.get("rows") + " rows into "
                + report.get("summary"));
        return report.toString();
    }

    /** What the dialog shows before the user changes anything, by macro key: the core's defaults. */
    static Map<String, Object> dialogDefaults() {
        Map<String, Object> fields = new LinkedHashMap<String, Object>();
        fields.put("recursive", Batch.batchDefault("recursive"));
        fields.put("file_pattern", Batch.batchDefault("pattern"));
        fields.put("k", defaultK());
        fields.put("save_heatmaps", Batch.batchDefault("save_heatmaps"));
        fields.put("save_label_images", Batch.batchDefault("save_labels"));
        return fields;
    }

    /** The core's number of clusters of the published recipe. */
    static int defaultK() {
        return ((Number) Batch.analysisDefault("k")).intValue();
    }

    /** {@code m:ss} or {@code h:mm:ss}. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
