package org.visualccc;

import ij.process.ByteProcessor;

/**
 * Times {@link Model#classify(ij.process.ImageProcessor, int)} with a CAM through the
 * Java API (JNI included) on a square 8-bit image of the model's input size. Not a
 * JUnit test: run by {@code scripts/bench-overhead.sh}.
 *
 * <p>Arguments: MODEL [ITERATIONS [THREADS]]. Prints {@code java_ms <mean per call>}.
 */
public final class ClassifyBenchmark {
    private ClassifyBenchmark() {
    }

    public static void main(String[] args) {
        String modelPath = args[0];
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        try (Model model = Model.open(modelPath, threads)) {
            int size = model.inputSize();
            ByteProcessor image = new ByteProcessor(size, size);
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    // Same pattern as the Rust overhead example.
                    image.set(x, y, (x * 7 + y * 13 + (x * y) % 31) % 256);
                }
            }
            for (int i = 0; i < 5; i++) {
                model.classify(image, Model.CAM_PREDICTED);
            }
            long start = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                model.classify(image, Model.CAM_PREDICTED);
            }
            double ms = (System.nanoTime() - start) / 1e6 / iterations;
            System.out.printf("java_ms %.3f%n", ms);
        }
    }
}
