package org.visualccc.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.io.FileInfo;
import ij.io.FileSaver;
import ij.io.Opener;
import ij.io.TiffDecoder;
import ij.measure.Calibration;
import ij.process.ImageProcessor;
import org.visualccc.BundledModels;
import org.visualccc.Classification;
import org.visualccc.Clustering;
import org.visualccc.KMeans;
import org.visualccc.Model;
import org.visualccc.Texture;
import org.visualccc.TextureResult;
import org.visualccc.VisualCccException;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The work of Plugins › Visual-CCC › Batch Process Folder..., without any GUI: every image
 * file under an input folder is classified (with the CAM of the predicted class),
 * clustered by k-means and measured for GLCM texture; the output folder receives
 * <ul>
 * <li>{@value #SUMMARY_FILE}: one row per image: {@code File} (path relative to the input
 * folder), {@code Width}, {@code Height}, {@code Slices}, {@code Model}, {@code Class},
 * {@code P(<class>)} per class, {@code Fraction cluster <i>} per cluster (labels ordered by
 * mean grey, 0 = darkest), {@code Area unit}, {@code Area cluster <i>} (calibrated), the
 * whole-image texture values, then {@code Heatmap} and {@code Labels} (output paths relative
 * to the output folder, empty when not saved);</li>
 * <li>{@code heatmaps/<relative path>-CAM.tif} (32-bit CAM) and
 * {@code labels/<relative path>-clusters.tif} (8-bit cluster labels);</li>
 * <li>{@value #SKIPPED_FILE}: {@code File,Reason} for each file that could not be read in
 * the last run.</li>
 * </ul>
 * Stacks are analysed on their first slice. The model is opened once per run.
 *
 * <p><b>Resumable and cancel-safe.</b> Output images are written under temporary names and
 * renamed atomically; an image's summary row is appended only after all its outputs are in
 * place, so the row marks the image as finished. A later run with the same settings skips
 * every file that has a row; cancelling (between images) leaves only complete outputs and
 * complete rows. A summary written with other settings (other columns) is refused rather
 * than mixed.
 */
public final class BatchProcessor {
    /** The summary table in the output folder. */
    public static final String SUMMARY_FILE = "visual-ccc-summary.csv";
    /** The list of skipped files in the output folder. */
    public static final String SKIPPED_FILE = "visual-ccc-skipped.csv";
    /** Default file pattern: the image formats ImageJ opens itself. */
    public static final String DEFAULT_PATTERN = "*.{tif,tiff,png,jpg,jpeg,gif,bmp}";
    /** Texture features summarised per image (the Texture command's defaults). */
    static final String[] TEXTURE_FEATURES = {"contrast", "homogeneity", "energy", "correlation"};
    private static final String PART_PREFIX = ".part-";
    /** The steps timed in {@link Summary#stepSeconds}. */
    public static final String[] STEPS = {"decode", "classify", "cluster", "texture", "write"};

    /** What to process and how; a mutable builder. */
    public static final class Settings {
        private File input;
        private File output;
        private boolean recursive;
        private String pattern = DEFAULT_PATTERN;
        private String model = BundledModels.FIXTURE_TINY;
        private KMeans.Params clustering = new KMeans.Params();
        private boolean saveHeatmaps = true;
        private boolean saveLabels = true;

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
            this.pattern = pattern == null || pattern.trim().isEmpty() ? DEFAULT_PATTERN : pattern.trim();
            return this;
        }

        /** A model file, or a label/name understood by {@link ClassifyMorphology#resolveModel}. */
        public Settings model(String model) {
            this.model = model;
            return this;
        }

        /** k-means settings; areas always use each image's own calibration. */
        public Settings clustering(KMeans.Params clustering) {
            this.clustering = clustering.copy();
            return this;
        }

        public Settings saveHeatmaps(boolean saveHeatmaps) {
            this.saveHeatmaps = saveHeatmaps;
            return this;
        }

        public Settings saveLabels(boolean saveLabels) {
            this.saveLabels = saveLabels;
            return this;
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
        /** Seconds spent per step over the processed images: decode, classify, cluster, texture, write. */
        public final double[] stepSeconds = new double[STEPS.length];

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d found, %d processed, %d already done, %d skipped%s in %.1f s",
                    found, processed, alreadyDone, skipped.size(), cancelled ? ", cancelled" : "", seconds);
        }

        /** Seconds per step, e.g. {@code decode 0.7 s, classify 0.2 s, ...}. */
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

    private final Settings settings;
    private final Path inputRoot;
    private final Path outputRoot;

    private BatchProcessor(Settings settings) {
        if (settings.input == null || !settings.input.isDirectory()) {
            throw new IllegalArgumentException("input folder " + settings.input + " does not exist");
        }
        if (settings.output == null || settings.output.getPath().isEmpty()) {
            throw new IllegalArgumentException("no output folder given");
        }
        this.settings = settings;
        this.inputRoot = settings.input.toPath().toAbsolutePath().normalize();
        this.outputRoot = settings.output.toPath().toAbsolutePath().normalize();
        if (outputRoot.equals(inputRoot)) {
            throw new IllegalArgumentException("the output folder must differ from the input folder");
        }
    }

    /**
     * Processes the folder.
     *
     * @param cancel   asked before each file; true stops the run cleanly (may be null)
     * @param listener told after each file (may be null)
     * @throws IllegalArgumentException for bad settings, or an output folder holding a summary
     *                                  made with other settings
     * @throws IOException              if the output folder cannot be written
     */
    public static Summary run(Settings settings, BooleanSupplier cancel, Listener listener) throws IOException {
        return new BatchProcessor(settings).run(cancel == null ? () -> false : cancel, listener);
    }

    private Summary run(BooleanSupplier cancel, Listener listener) throws IOException {
        long start = System.nanoTime();
        Summary summary = new Summary();
        List<Path> files = findFiles();
        summary.found = files.size();
        Files.createDirectories(outputRoot);
        removeLeftoverParts();
        File modelFile = ClassifyMorphology.resolveModel(settings.model);
        if (!modelFile.isFile()) {
            throw new IllegalArgumentException("model file " + modelFile.getPath() + " does not exist");
        }
        Path summaryPath = outputRoot.resolve(SUMMARY_FILE);
        summary.summaryFile = summaryPath.toFile();
        try (Model model = Model.open(modelFile.getPath())) {
            boolean cam = model.hasFeatures() && settings.saveHeatmaps;
            summary.model = ClassifyMorphology.modelLabel(model);
            summary.fixtureModel = model.isFixture();
            List<String> header = header(model);
            Set<String> done = finishedFiles(summaryPath, header);
            long processingNanos = 0;
            for (int i = 0; i < files.size(); i++) {
                if (cancel.getAsBoolean()) {
                    summary.cancelled = true;
                    break;
                }
                String relative = relativeName(files.get(i));
                if (done.contains(relative)) {
                    summary.alreadyDone++;
                } else {
                    long t0 = System.nanoTime();
                    try {
                        List<String> row = processFile(files.get(i), relative, model, cam, summary.stepSeconds);
                        appendLine(summaryPath, csvLine(row));
                        summary.processed++;
                    } catch (UnreadableImageException e) {
                        summary.skipped.add(new Skip(relative, e.getMessage()));
                    } catch (IllegalArgumentException | IllegalStateException | VisualCccException e) {
                        summary.skipped.add(new Skip(relative, "could not be analysed: " + e.getMessage()));
                    }
                    processingNanos += System.nanoTime() - t0;
                }
                if (listener != null) {
                    int attempted = summary.processed + summary.skipped.size();
                    double eta = attempted == 0 ? Double.NaN
                            : processingNanos / 1e9 / attempted * (files.size() - i - 1);
                    listener.progress(i + 1, files.size(), relative, eta);
                }
            }
        }
        writeSkipped(summary.skipped);
        summary.seconds = (System.nanoTime() - start) / 1e9;
        return summary;
    }

    // ------------------------------------------------------------------ files

    private List<Path> findFiles() throws IOException {
        String glob = settings.pattern;
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob.toLowerCase(Locale.ROOT));
        try (Stream<Path> walk = Files.walk(inputRoot, settings.recursive ? Integer.MAX_VALUE : 1)) {
            return walk.filter(p -> !p.startsWith(outputRoot))
                    .filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> matcher.matches(Paths.get(p.getFileName().toString().toLowerCase(Locale.ROOT))))
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    private String relativeName(Path file) {
        return inputRoot.relativize(file).toString().replace(File.separatorChar, '/');
    }

    /** Temporary files of an interrupted earlier run (a killed JVM cannot clean up). */
    private void removeLeftoverParts() throws IOException {
        try (Stream<Path> walk = Files.walk(outputRoot)) {
            for (Path p : walk.filter(p -> p.getFileName().toString().startsWith(PART_PREFIX))
                    .collect(Collectors.toList())) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Opens {@code file} with ImageJ, or says why it cannot be read. */
    static ImagePlus openImage(File file) throws UnreadableImageException {
        if (file.length() == 0) {
            throw new UnreadableImageException("empty file");
        }
        Opener opener = new Opener();
        if (opener.getFileType(file.getPath()) == Opener.UNKNOWN) {
            throw new UnreadableImageException("not an image format ImageJ can open");
        }
        if (opener.getFileType(file.getPath()) == Opener.TIFF) {
            checkTiffComplete(file);
        }
        ImagePlus imp;
        try {
            // ImageJ's own error messages about the file go to the log, not to a dialog.
            IJ.redirectErrorMessages();
            imp = opener.openImage(file.getPath());
        } catch (RuntimeException | OutOfMemoryError e) {
            throw new UnreadableImageException("cannot be decoded: " + e);
        } finally {
            IJ.redirectErrorMessages(false);
        }
        if (imp == null || imp.getWidth() == 0 || imp.getProcessor() == null) {
            throw new UnreadableImageException("cannot be decoded (corrupt or unsupported variant)");
        }
        return imp;
    }

    /**
     * ImageJ reads a truncated uncompressed TIFF without complaint (the missing pixels
     * become 0), so compare the pixel data it describes with the file's length.
     */
    private static void checkTiffComplete(File file) throws UnreadableImageException {
        FileInfo[] infos;
        try {
            infos = new TiffDecoder(file.getParent() + File.separator, file.getName()).getTiffInfo();
        } catch (IOException | RuntimeException e) {
            throw new UnreadableImageException("not a valid TIFF: " + e.getMessage());
        }
        if (infos == null || infos.length == 0) {
            throw new UnreadableImageException("not a valid TIFF: no image in it");
        }
        FileInfo last = infos[infos.length - 1];
        long needed = 0;
        if (last.stripOffsets != null && last.stripLengths != null) {
            for (int i = 0; i < Math.min(last.stripOffsets.length, last.stripLengths.length); i++) {
                needed = Math.max(needed, (last.stripOffsets[i] & 0xffffffffL) + (last.stripLengths[i] & 0xffffffffL));
            }
        } else if (last.compression == FileInfo.COMPRESSION_NONE) {
            long plane = (long) last.width * last.height * last.getBytesPerPixel();
            needed = last.getOffset() + plane * Math.max(1, last.nImages)
                    + (long) last.gapBetweenImages * (Math.max(1, last.nImages) - 1);
        }
        if (needed > file.length()) {
            throw new UnreadableImageException("truncated TIFF: " + file.length() + " bytes, its pixels need "
                    + needed);
        }
    }

    /** An image file that cannot be read; the message is the reason. */
    static final class UnreadableImageException extends Exception {
        private static final long serialVersionUID = 1L;

        UnreadableImageException(String reason) {
            super(reason);
        }
    }

    // ------------------------------------------------------------------ one image

    private List<String> processFile(Path file, String relative, Model model, boolean cam, double[] steps)
            throws UnreadableImageException, IOException {
        long t = System.nanoTime();
        ImagePlus source = openImage(file.toFile());
        t = lap(steps, 0, t);
        ImageProcessor ip = source.getStack().getProcessor(1);
        ImagePlus image = new ImagePlus(source.getTitle(), ip);
        image.setCalibration(source.getCalibration());

        Classification c = model.classify(ip, cam ? Model.CAM_PREDICTED : Model.CAM_NONE);
        t = lap(steps, 1, t);
        Calibration cal = source.getCalibration();
        KMeans.Params params = settings.clustering.copy().calibration(cal.pixelWidth, cal.pixelHeight,
                cal.getUnit());
        Clustering clusters = KMeans.cluster(ip, params, Collections.emptyMap());
        t = lap(steps, 2, t);
        TextureResult texture = Texture.values(ip, new Texture.Params().features(TEXTURE_FEATURES));
        t = lap(steps, 3, t);

        List<Output> outputs = new ArrayList<Output>();
        String label = ClassifyMorphology.modelLabel(model);
        if (cam && c.hasCam()) {
            outputs.add(new Output("heatmaps/" + relative + ClassifyMorphology.HEATMAP_SUFFIX + ".tif",
                    ClassifyMorphology.createHeatmap(image, Collections.singletonList(c), label)));
        } else {
            outputs.add(null);
        }
        if (settings.saveLabels) {
            outputs.add(new Output("labels/" + relative + ClusterKMeans.SUFFIX + ".tif",
                    CommandSupport.labelImage(image, CommandSupport.derivedTitle(image.getTitle(),
                            ClusterKMeans.SUFFIX), Collections.singletonList(clusters.labelProcessor()),
                            "Visual-CCC k-means clusters (k = " + params.k() + ") of " + relative + "\n")));
        } else {
            outputs.add(null);
        }
        writeAll(outputs);
        lap(steps, 4, t);

        List<String> row = new ArrayList<String>();
        row.add(relative);
        row.add(Integer.toString(source.getWidth()));
        row.add(Integer.toString(source.getHeight()));
        row.add(Integer.toString(source.getStackSize()));
        row.add(label);
        row.add(c.predictedClass());
        for (double p : c.probabilities()) {
            row.add(number(p));
        }
        for (int k = 0; k < clusters.clusterCount(); k++) {
            row.add(number(clusters.areaFraction(k)));
        }
        row.add(CommandSupport.areaUnit(cal));
        for (int k = 0; k < clusters.clusterCount(); k++) {
            row.add(number(clusters.area(k)));
        }
        for (double v : texture.values()) {
            row.add(number(v));
        }
        for (Output o : outputs) {
            row.add(o == null ? "" : o.relativePath);
        }
        return row;
    }

    /** Adds the time since {@code start} to {@code steps[step]} and returns now. */
    private static long lap(double[] steps, int step, long start) {
        long now = System.nanoTime();
        steps[step] += (now - start) / 1e9;
        return now;
    }

    private List<String> header(Model model) {
        List<String> header = new ArrayList<String>();
        Collections.addAll(header, "File", "Width", "Height", "Slices", "Model", "Class");
        for (String name : model.classNames()) {
            header.add("P(" + name + ")");
        }
        int k = settings.clustering.k();
        for (int i = 0; i < k; i++) {
            header.add("Fraction cluster " + i);
        }
        header.add("Area unit");
        for (int i = 0; i < k; i++) {
            header.add("Area cluster " + i);
        }
        Collections.addAll(header, TEXTURE_FEATURES);
        Collections.addAll(header, "Heatmap", "Labels");
        return header;
    }

    private static String number(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }

    /** An image to save under the output folder. */
    private static final class Output {
        final String relativePath;
        final ImagePlus image;

        Output(String relativePath, ImagePlus image) {
            this.relativePath = relativePath;
            this.image = image;
        }
    }

    /**
     * Saves every output under a temporary name, then renames them all into place, so that
     * no output is ever seen half-written.
     */
    private void writeAll(List<Output> outputs) throws IOException {
        List<Path[]> moves = new ArrayList<Path[]>();
        try {
            for (Output o : outputs) {
                if (o == null) {
                    continue;
                }
                Path target = outputRoot.resolve(o.relativePath);
                Files.createDirectories(target.getParent());
                Path part = target.resolveSibling(PART_PREFIX + target.getFileName());
                moves.add(new Path[] {part, target});
                if (!new FileSaver(o.image).saveAsTiff(part.toString())) {
                    throw new IOException("cannot write " + target);
                }
            }
            for (Path[] move : moves) {
                Files.move(move[0], move[1], StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            for (Path[] move : moves) {
                Files.deleteIfExists(move[0]);
            }
        }
    }

    // ------------------------------------------------------------------ summary table

    /**
     * The files listed in an existing summary (creating it with {@code header} if absent).
     * A last line without its newline (a run killed while appending) is cut off.
     */
    private static Set<String> finishedFiles(Path summary, List<String> header) throws IOException {
        String headerLine = csvLine(header);
        Set<String> done = new HashSet<String>();
        if (!Files.exists(summary)) {
            appendLine(summary, headerLine);
            return done;
        }
        byte[] bytes = Files.readAllBytes(summary);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') {
            end--;
        }
        if (end < bytes.length) {
            try (RandomAccessFile raf = new RandomAccessFile(summary.toFile(), "rw")) {
                raf.setLength(end);
            }
        }
        String[] lines = new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n");
        if (end == 0) {
            appendLine(summary, headerLine);
            return done;
        }
        if (!lines[0].equals(headerLine.trim())) {
            throw new IllegalArgumentException("the output folder already holds " + SUMMARY_FILE
                    + " made with other settings (other model or k); choose another output folder");
        }
        for (int i = 1; i < lines.length; i++) {
            if (!lines[i].isEmpty()) {
                done.add(firstCsvField(lines[i]));
            }
        }
        return done;
    }

    private void writeSkipped(List<Skip> skipped) throws IOException {
        StringBuilder text = new StringBuilder(csvLine(Arrays.asList("File", "Reason")));
        for (Skip s : skipped) {
            text.append(csvLine(Arrays.asList(s.file, s.reason)));
        }
        Path target = outputRoot.resolve(SKIPPED_FILE);
        Path part = outputRoot.resolve(PART_PREFIX + SKIPPED_FILE);
        Files.write(part, text.toString().getBytes(StandardCharsets.UTF_8));
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Appends one whole line in a single write, flushed to the disk. */
    private static void appendLine(Path file, String line) throws IOException {
        try (FileOutputStream out = new FileOutputStream(file.toFile(), true)) {
            out.write(line.getBytes(StandardCharsets.UTF_8));
            out.getFD().sync();
        }
    }

    /** RFC 4180 line: fields with commas, quotes or line breaks are quoted. */
    static String csvLine(List<String> fields) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                line.append(',');
            }
            String f = fields.get(i);
            if (f.indexOf(',') >= 0 || f.indexOf('"') >= 0 || f.indexOf('\n') >= 0 || f.indexOf('\r') >= 0) {
                line.append('"').append(f.replace("\"", "\"\"")).append('"');
            } else {
                line.append(f);
            }
        }
        return line.append('\n').toString();
    }

    static String firstCsvField(String line) {
        if (!line.startsWith("\"")) {
            int comma = line.indexOf(',');
            return comma < 0 ? line : line.substring(0, comma);
        }
        StringBuilder field = new StringBuilder();
        for (int i = 1; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (ch == '"') {
                if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else {
                    break;
                }
            } else {
                field.append(ch);
            }
        }
        return field.toString();
    }
}
