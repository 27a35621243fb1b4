package org.visualccc;

import java.util.Arrays;

/**
 * What every classification result has: the model's class names, the predicted class and
 * the probability of each class. Immutable; array getters return copies.
 */
public abstract class ClassProbabilities {
    private final String[] classNames;
    private final int predictedIndex;
    private final double[] probabilities;
    private final double unfamiliarity;
    private final int unfamiliar;

    /**
     * The arrays are copied; no unfamiliar-image signal.
     *
     * @throws IllegalArgumentException if the arguments are inconsistent
     */
    ClassProbabilities(String[] classNames, int predictedIndex, double[] probabilities) {
        this(classNames, predictedIndex, probabilities, Double.NaN, -1);
    }

    /**
     * The arrays are copied.
     *
     * @param unfamiliarity the model's energy score for the image (higher: less like its
     *                      training data), NaN if unknown
     * @param unfamiliar    1 if the score is above the model's threshold, 0 if not, -1 if
     *                      the model has no threshold
     * @throws IllegalArgumentException if the arguments are inconsistent
     */
    ClassProbabilities(String[] classNames, int predictedIndex, double[] probabilities, double unfamiliarity,
                       int unfamiliar) {
        if (classNames == null || probabilities == null) {
            throw new IllegalArgumentException("class names and probabilities are required");
        }
        if (classNames.length != probabilities.length || classNames.length == 0) {
            throw new IllegalArgumentException(classNames.length + " class names but " + probabilities.length
                    + " probabilities");
        }
        if (predictedIndex < 0 || predictedIndex >= classNames.length) {
            throw new IllegalArgumentException("predicted index " + predictedIndex + " out of range");
        }
        this.classNames = classNames.clone();
        this.predictedIndex = predictedIndex;
        this.probabilities = probabilities.clone();
        if (unfamiliar < -1 || unfamiliar > 1) {
            throw new IllegalArgumentException("unfamiliar flag " + unfamiliar + " is not -1, 0 or 1");
        }
        this.unfamiliarity = unfamiliarity;
        this.unfamiliar = unfamiliar;
    }

    /** The model's energy score for the image: higher is less like its training data; NaN if unknown. */
    public double unfamiliarity() {
        return unfamiliarity;
    }

    /** Whether the model has an unfamiliar-image threshold (docs/model-format.md, Calibration). */
    public boolean hasUnfamiliarThreshold() {
        return unfamiliar >= 0;
    }

    /**
     * True when the image is unlike the model's training data: its class is then a guess,
     * however high its probability. False when the model has no threshold.
     */
    public boolean isUnfamiliar() {
        return unfamiliar == 1;
    }

    /** Class names in model order (a copy). */
    public String[] classNames() {
        return classNames.clone();
    }

    public int classCount() {
        return classNames.length;
    }

    public int predictedIndex() {
        return predictedIndex;
    }

    public String predictedClass() {
        return classNames[predictedIndex];
    }

    /** Probabilities in class order, summing to 1 (a copy). */
    public double[] probabilities() {
        return probabilities.clone();
    }

    public double probability(int classIndex) {
        if (classIndex < 0 || classIndex >= probabilities.length) {
            throw new IndexOutOfBoundsException("class index " + classIndex + " of " + probabilities.length);
        }
        return probabilities[classIndex];
    }

    /**
     * @throws IllegalArgumentException if the model has no class of that name
     */
    public double probability(String className) {
        for (int i = 0; i < classNames.length; i++) {
            if (classNames[i].equals(className)) {
                return probabilities[i];
            }
        }
        throw new IllegalArgumentException("no class '" + className + "'; classes are "
                + Arrays.toString(classNames));
    }
}
