package org.visualccc;

import ij.process.ByteProcessor;

/**
 * Times {@link Model#classify(ij.process.ImageProcessor, int)} with a CAM through the
 * Java API (JNI included) on a square 8-bit image of the model's input size. Not a
 * JUnit test: run by {@code scripts/bench-overhead.sh}.
 *
 * <p>Arguments: MODEL [ITERATIONS [THREADS]]. Prints {@code java_ms <mean per call>} of
 * the fastest of 10 rounds, as the Rust overhead example does, so that load from other
 * processes does not decide the result.
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
            int rounds = 10;
            int perRound = Math.max(1, (iterations + rounds - 1) / rounds);
            double best = Double.MAX_VALUE;
            for (int r = 0; r < rounds; r++) {
                long start = System.nanoTime();
                for (int i = 0; i < perRound; i++) {
                    model.classify(image, Model.CAM_PREDICTED);
                }
                best = Math.min(best, (System.nanoTime() - start) / 1e6 / perRound);
            }
            System.out.printf("java_ms %.3f%n", best);
        }
    }
}
