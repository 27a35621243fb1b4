package org.visualccc;

import java.util.Map;

/**
 * Trains a new classifier on a base model from a folder with one subfolder per class
 * (the core's {@code train} module: pooled base features per tile, a class-balanced
 * logistic-regression head chosen by cross-validation, written as a model that follows
 * the Visual-CCC contract, with its card {@code <name>.md} next to it).
 */
public final class Trainer {
    /** Told after each image; returning false cancels training. */
    public interface Progress {
        boolean update(int done, int total);
    }

    private Trainer() {
    }

    /**
     * The core's training defaults: {@code seed}, {@code augment}, {@code tile_size} (0: the
     * base model's), {@code prior_weight}, {@code residual}, {@code replay_weight}, {@code batch}.
     */
    public static Map<String, Object> defaults() {
        return CoreDefaults.of("train", Trainer::nativeDefaults);
    }

    private static native String nativeDefaults();

    /**
     * Trains on {@code folder} and writes {@code outPath} (and its card).
     *
     * @param basePath the base model (a Gemm head and a {@code features} output)
     * @param seed     seeds the cross-validation folds
     * @param tileSize source pixels per tile, recorded in the new model; 0: the base model's
     * @param augment  also train on the 8 flips and quarter turns of every tile (8× slower)
     * @param progress may be null
     * @return the training report as one JSON object (classes, image_counts,
     *         cross_validation with accuracy and confusion, skipped files, seconds, model, card)
     * @throws IllegalArgumentException for fewer than two classes, an empty class or an
     *                                  unwritable output
     */
    public static String trainFolder(String basePath, String folder, String outPath, long seed, int tileSize,
            boolean augment, Progress progress) {
        if (basePath == null || folder == null || outPath == null || basePath.isEmpty() || folder.isEmpty()
                || outPath.isEmpty()) {
            throw new IllegalArgumentException("a base model, a training folder and an output file are required");
        }
        NativeLoader.load();
        return nativeTrainFolder(basePath, folder, outPath, seed, tileSize, augment, progress,
                Model.onnxRuntimeProperty(), Model.onnxRuntimeSearchDirs());
    }

    private static native String nativeTrainFolder(String basePath, String folder, String outPath, long seed,
            int tileSize, boolean augment, Progress progress, String ortLibraryPath, String[] ortSearchDirs);
}
