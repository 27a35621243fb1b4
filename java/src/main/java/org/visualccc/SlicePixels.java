package org.visualccc;

import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;

/**
 * How the analysis classes ({@link Filters}, {@link Thresholds}, {@link Texture},
 * {@link KMeans}) hand an ImageJ slice to native code and wrap what comes back: the
 * natives take the processor's own pixel array ({@code byte[]}, {@code short[]},
 * {@code float[]} or {@code int[]}) as an {@code Object}, read it without writing to it,
 * and dispatch on its type, so each operation needs one native method, not four.
 */
final class SlicePixels {
    private SlicePixels() {
    }

    /** The pixel array of {@code ip}, loading the native library first. */
    static Object of(ImageProcessor ip) {
        if (ip == null) {
            throw new IllegalArgumentException("no image given");
        }
        Object pixels = ip.getPixels();
        if (!(pixels instanceof byte[] || pixels instanceof short[] || pixels instanceof float[]
                || pixels instanceof int[])) {
            throw new IllegalArgumentException("unsupported pixel type: "
                    + (pixels == null ? "no pixels" : pixels.getClass().getSimpleName()));
        }
        NativeLoader.load();
        return pixels;
    }

    /** A processor of the type matching {@code pixels} (a new array from native code). */
    static ImageProcessor processor(Object pixels, int width, int height) {
        if (pixels instanceof byte[]) {
            return new ByteProcessor(width, height, (byte[]) pixels);
        } else if (pixels instanceof short[]) {
            return new ShortProcessor(width, height, (short[]) pixels, null);
        } else if (pixels instanceof float[]) {
            return new FloatProcessor(width, height, (float[]) pixels);
        } else if (pixels instanceof int[]) {
            return new ColorProcessor(width, height, (int[]) pixels);
        }
        throw new VisualCccException(VisualCccException.Kind.INTERNAL,
                "the native library returned no pixels and no error");
    }

    /** {@code result}, or an INTERNAL error if native code returned null without throwing. */
    static <T> T checked(T result) {
        if (result == null) {
            throw new VisualCccException(VisualCccException.Kind.INTERNAL,
                    "the native library returned no result and no error");
        }
        return result;
    }
}
