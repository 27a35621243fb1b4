package org.visualccc;

import ij.process.ImageProcessor;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A loaded Visual-CCC classifier (an ONNX model following the model contract).
 *
 * <p>Thread-safe: one model may be used from many threads at once. Every call holds a
 * read lock and checks that the model is open; {@link #close()} takes the write lock,
 * so it waits for running calls and frees the native model exactly once. Calls after
 * {@code close()} throw {@link IllegalStateException}. Close models you open (try-with-
 * resources); an unclosed model keeps its native memory until the JVM exits.
 *
 * <p>Errors: {@link IllegalArgumentException} for bad arguments (e.g. an image that is
 * too small or has NaN pixels), {@link VisualCccException} for everything else.
 */
public final class Model implements AutoCloseable {
    /** {@code camClass} value: compute the CAM of the predicted class. */
    public static final int CAM_PREDICTED = -1;
    /** {@code camClass} value: compute no CAM. */
    public static final int CAM_NONE = -2;
    /**
     * Class activation map methods for {@link #activationMap}: {@code cam} (exact CAM,
     * equal to Grad-CAM for this head), {@code score-cam}, {@code eigen-cam} (ignores the
     * class) and {@code occlusion} (the only one for models without feature maps).
     */
    public static final String[] CAM_METHODS = {"cam", "score-cam", "eigen-cam", "occlusion"};
    /** The method that works for every model: it needs only the class scores. */
    public static final String CAM_METHOD_OCCLUSION = "occlusion";
    /** System property: explicit path of the ONNX Runtime library. */
    public static final String ONNXRUNTIME_PROPERTY = "visualccc.onnxruntime";

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    /** Native handle; 0 once closed. Read under the read lock, written under the write lock. */
    private long handle;
    private final String path;

    private Model(long handle, String path) {
        this.handle = handle;
        this.path = path;
    }

    /** Opens a model with ONNX Runtime's default number of threads. */
    public static Model open(String modelPath) {
        return open(modelPath, 0);
    }

    /**
     * Opens the ONNX model at {@code modelPath}, loading the native library and ONNX
     * Runtime first if needed.
     *
     * <p>ONNX Runtime is taken from the system property {@value #ONNXRUNTIME_PROPERTY}
     * if set (a setting that points nowhere is an error), else looked for next to the
     * loaded native library and, inside ImageJ/Fiji, in {@code <imagej>/lib/linux64}.
     *
     * @param threads threads ONNX Runtime may use per inference; 0 = its default
     */
    public static Model open(String modelPath, int threads) {
        if (modelPath == null || modelPath.isEmpty()) {
            throw new IllegalArgumentException("no model path given");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be 0 (default) or positive, not " + threads);
        }
        NativeLoader.load();
        String ortLibrary = onnxRuntimeProperty();
        long handle = nativeOpen(modelPath, ortLibrary, onnxRuntimeSearchDirs(), threads);
        if (handle == 0) {
            throw new VisualCccException(VisualCccException.Kind.INTERNAL,
                    "opening " + modelPath + " returned no model");
        }
        return new Model(handle, modelPath);
    }

    /**
     * Imports a BioImage Model Zoo image classifier (model RDF 0.5 with ONNX weights: its
     * {@code .zip}, {@code rdf.yaml} / {@code bioimageio.yaml}, or the folder holding it)
     * into {@code outDir} as a model that follows the Visual-CCC contract, after checking
     * that its test input reproduces its test output. The imported model has no
     * {@code features} output: it classifies but gives no class activation maps.
     *
     * @return the path of the written {@code .onnx} file
     * @throws VisualCccException of kind MODEL with the reason when the package is not a
     *                            supported image classifier
     */
    public static String importBioimageio(String packagePath, String outDir) {
        if (packagePath == null || packagePath.isEmpty() || outDir == null || outDir.isEmpty()) {
            throw new IllegalArgumentException("a package and an output folder are required");
        }
        NativeLoader.load();
        String ortLibrary = onnxRuntimeProperty();
        return nativeImportBioimageio(packagePath, outDir, ortLibrary, onnxRuntimeSearchDirs());
    }

    /** {@value #ONNXRUNTIME_PROPERTY}, or null when unset or blank. */
    static String onnxRuntimeProperty() {
        String ortLibrary = System.getProperty(ONNXRUNTIME_PROPERTY);
        return ortLibrary == null || ortLibrary.trim().isEmpty() ? null : ortLibrary;
    }

    /**
     * Directories searched for ONNX Runtime when {@value #ONNXRUNTIME_PROPERTY} is unset:
     * the directory of the loaded native library and, inside ImageJ, {@code <imagej>/lib/linux64}.
     */
    static String[] onnxRuntimeSearchDirs() {
        List<String> dirs = new ArrayList<String>();
        File library = NativeLoader.loadedLibraryFile();
        if (library != null && library.getAbsoluteFile().getParentFile() != null) {
            dirs.add(library.getAbsoluteFile().getParentFile().getPath());
        }
        String imagej = imageJDirectory();
        if (imagej != null) {
            String dir = new File(new File(imagej, "lib"), "linux64").getPath();
            if (!dirs.contains(dir)) {
                dirs.add(dir);
            }
        }
        return dirs.toArray(new String[0]);
    }

    /** {@code IJ.getDirectory("imagej")}, or null outside ImageJ (ij.jar not on the class path). */
    private static String imageJDirectory() {
        try {
            return ij.IJ.getDirectory("imagej");
        } catch (LinkageError e) {
            return null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The path this model was opened from, as given. */
    public String path() {
        return path;
    }

    /** Class names in output order. */
    public String[] classNames() {
        return withHandle(Model::nativeClassNames);
    }

    /** Side of the square model input, in pixels. */
    public int inputSize() {
        return withHandle(Model::nativeInputSize);
    }

    /** Whether the model outputs the feature maps needed for class activation maps. */
    public boolean hasFeatures() {
        return withHandle(Model::nativeHasFeatures);
    }

    /**
     * {@code "trained"} for a real classifier, {@code "fixture"} for a test fixture whose
     * predictions mean nothing (or whatever other kind the model declares).
     */
    public String kind() {
        return withHandle(Model::nativeKind);
    }

    /** Whether this is an untrained test fixture ({@link #kind()} is {@code "fixture"}). */
    public boolean isFixture() {
        return "fixture".equals(kind());
    }

    /** The model's own description (may be empty). */
    public String description() {
        return withHandle(Model::nativeDescription);
    }

    /**
     * Classifies {@code ip} with the CAM of the predicted class if the model has
     * features, else without a CAM.
     */
    public Classification classify(ImageProcessor ip) {
        return withHandle(h -> classifyPixels(h, ip, nativeHasFeatures(h) ? CAM_PREDICTED : CAM_NONE));
    }

    /**
     * Classifies the whole of {@code ip} (its ROI is ignored; its pixels are read, never
     * written). 8-bit and RGB values are scaled by 1/255, 16- and 32-bit images are
     * stretched between their minimum and maximum.
     *
     * @param camClass {@link #CAM_PREDICTED}, {@link #CAM_NONE} or a class index
     */
    public Classification classify(ImageProcessor ip, int camClass) {
        return withHandle(h -> classifyPixels(h, ip, camClass));
    }

    private static Classification classifyPixels(long h, ImageProcessor ip, int camClass) {
        if (ip == null) {
            throw new IllegalArgumentException("no image given");
        }
        Object pixels = ip.getPixels();
        int width = ip.getWidth();
        int height = ip.getHeight();
        Classification result;
        if (pixels instanceof byte[]) {
            result = nativeClassifyGray8(h, (byte[]) pixels, width, height, camClass);
        } else if (pixels instanceof short[]) {
            result = nativeClassifyGray16(h, (short[]) pixels, width, height, camClass);
        } else if (pixels instanceof float[]) {
            result = nativeClassifyGray32(h, (float[]) pixels, width, height, camClass);
        } else if (pixels instanceof int[]) {
            result = nativeClassifyRgb(h, (int[]) pixels, width, height, camClass);
        } else {
            throw new IllegalArgumentException("unsupported pixel type: "
                    + (pixels == null ? "no pixels" : pixels.getClass().getSimpleName()));
        }
        return checked(result);
    }

    /**
     * Classifies the whole of {@code ip} tile by tile at the model's tile scale (each tile
     * covers {@code visualccc.tile_source_size} image pixels, resampled to the input size;
     * native resolution without that key): tiles overlap by {@code overlap} model-input
     * pixels (the last tile of a row or column is shifted inward), run through ONNX Runtime
     * {@code batch} at a time, and the image's class is the argmax of the mean tile
     * probabilities; tile regions and the map are in image pixels. An image whose shorter
     * side is below the tile source size is classified as by
     * {@link #classify(ImageProcessor, int)}. 8-bit and RGB pixels are read
     * from the array one band of tile rows at a time; 16- and 32-bit ones are copied first
     * (their whole range sets the mapping to [0, 1]).
     *
     * @param camClass {@link #CAM_PREDICTED}, {@link #CAM_NONE} or a class index: the
     *                 class of the CAM stitched over the whole image
     */
    public WholeImageClassification classifyWhole(ImageProcessor ip, int overlap, int batch, int camClass) {
        if (ip == null) {
            throw new IllegalArgumentException("no image given");
        }
        return withHandle(h -> {
            WholeImageClassification result = nativeClassifyWhole(h, ip.getPixels(), ip.getWidth(),
                    ip.getHeight(), overlap, batch, camClass);
            if (result == null) {
                throw new VisualCccException(VisualCccException.Kind.INTERNAL,
                        "the native library returned no result and no error");
            }
            return result;
        });
    }

    /**
     * Classifies the whole of {@code ip} as {@link #classify(ImageProcessor, int)} and
     * explains {@code camClass} with {@code method}, one of {@link #CAM_METHODS}, with
     * default parameters. Score-CAM and occlusion run the model many times (batched).
     * The result's CAM has values in [0, 1] over the analysed region.
     *
     * @param camClass {@link #CAM_PREDICTED} or a class index
     * @throws VisualCccException of kind MODEL, naming occlusion as the alternative, when
     *                            {@code method} needs feature maps the model lacks
     */
    public Classification activationMap(ImageProcessor ip, String method, int camClass) {
        if (ip == null) {
            throw new IllegalArgumentException("no image given");
        }
        if (method == null) {
            throw new IllegalArgumentException("no CAM method given");
        }
        if (camClass == CAM_NONE) {
            throw new IllegalArgumentException("an activation map needs a class: CAM_PREDICTED or a class index");
        }
        return withHandle(h -> checked(nativeActivationMap(h, ip.getPixels(), ip.getWidth(), ip.getHeight(),
                camClass, method)));
    }

    /**
     * Decodes and classifies an image file (PNG, JPEG, TIFF, BMP).
     *
     * @param camClass {@link #CAM_PREDICTED}, {@link #CAM_NONE} or a class index
     */
    public Classification classifyFile(String imagePath, int camClass) {
        if (imagePath == null || imagePath.isEmpty()) {
            throw new IllegalArgumentException("no image path given");
        }
        return withHandle(h -> checked(nativeClassifyFile(h, imagePath, camClass)));
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        lock.readLock().lock();
        try {
            return handle == 0;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Frees the native model once running calls have finished. Later calls of other
     * methods throw {@link IllegalStateException}; closing again does nothing.
     */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            long h = handle;
            if (h != 0) {
                handle = 0;
                nativeClose(h);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "Model[" + path + (isClosed() ? ", closed]" : "]");
    }

    /** A native call that needs an open handle. */
    interface NativeCall<T> {
        T call(long handle);
    }

    /** Runs {@code call} under the read lock with the open handle (also for {@link Batch}). */
    <T> T withHandle(NativeCall<T> call) {
        lock.readLock().lock();
        try {
            long h = handle;
            if (h == 0) {
                throw new IllegalStateException("model is closed");
            }
            return call.call(h);
        } finally {
            lock.readLock().unlock();
        }
    }

    private static Classification checked(Classification result) {
        if (result == null) {
            throw new VisualCccException(VisualCccException.Kind.INTERNAL,
                    "the native library returned no result and no error");
        }
        return result;
    }

    /**
     * The core's whole-image tiling defaults: {@code overlap_fraction} (of the tile),
     * {@code batch} (tiles per ONNX Runtime run), {@code max_map_side} (longest side of a
     * stitched map; larger images get coarser maps).
     */
    public static Map<String, Object> tilingDefaults() {
        return CoreDefaults.of("tiling", Model::nativeTilingDefaults);
    }

    /** A whole-image tiling default as an int ({@code batch}, {@code max_map_side}). */
    public static int tilingDefaultInt(String key) {
        return ((Number) tilingDefaults().get(key)).intValue();
    }

    private static native String nativeTilingDefaults();

    private static native long nativeOpen(String modelPath, String ortLibraryPath, String[] ortSearchDirs,
                                          int threads);

    private static native void nativeClose(long handle);

    private static native String nativeImportBioimageio(String packagePath, String outDir, String ortLibraryPath,
                                                        String[] ortSearchDirs);

    private static native String[] nativeClassNames(long handle);

    private static native int nativeInputSize(long handle);

    private static native boolean nativeHasFeatures(long handle);

    private static native String nativeKind(long handle);

    private static native String nativeDescription(long handle);

    private static native Classification nativeClassifyGray8(long handle, byte[] pixels, int width, int height,
                                                             int camClass);

    private static native Classification nativeClassifyGray16(long handle, short[] pixels, int width, int height,
                                                              int camClass);

    private static native Classification nativeClassifyGray32(long handle, float[] pixels, int width, int height,
                                                              int camClass);

    private static native Classification nativeClassifyRgb(long handle, int[] pixels, int width, int height,
                                                           int camClass);

    private static native Classification nativeClassifyFile(long handle, String imagePath, int camClass);

    private static native WholeImageClassification nativeClassifyWhole(long handle, Object pixels, int width,
                                                                       int height, int overlap, int batch,
                                                                       int camClass);

    private static native Classification nativeActivationMap(long handle, Object pixels, int width, int height,
                                                             int camClass, String method);
}
