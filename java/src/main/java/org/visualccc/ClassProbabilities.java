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

    /**
     * The arrays are copied.
     *
     * @throws IllegalArgumentException if the arguments are inconsistent
     */
    ClassProbabilities(String[] classNames, int predictedIndex, double[] probabilities) {
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
