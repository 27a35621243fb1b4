package org.visualccc;

import ij.process.ImageProcessor;

/**
 * The instrument data bar of an SEM image: the strip of text, scale bar and numbers that
 * the microscope burns along the bottom (sometimes the top). Detection and its defaults
 * live in the native core ({@code image::databar}); an image without a bar keeps every row.
 */
public final class DataBar {
    /** Nothing excluded (exclusion turned off). */
    public static final DataBar NONE = new DataBar(0, 0);

    private final int topRows;
    private final int bottomRows;

    private DataBar(int topRows, int bottomRows) {
        this.topRows = topRows;
        this.bottomRows = bottomRows;
    }

    /**
     * Finds the data bar of {@code ip}.
     *
     * @throws IllegalArgumentException for NaN or infinite pixels
     */
    public static DataBar detect(ImageProcessor ip) {
        int[] rows = SlicePixels.checked(nativeDetect(SlicePixels.of(ip), ip.getWidth(), ip.getHeight()));
        return new DataBar(rows[0], rows[1]);
    }

    /** The bar the core reported: {@code topRows} and {@code bottomRows} left out. */
    static DataBar of(int topRows, int bottomRows) {
        return topRows == 0 && bottomRows == 0 ? NONE : new DataBar(topRows, bottomRows);
    }

    /** Whether commands leave the data bar out unless told otherwise (the core's recipe default). */
    public static boolean excludedByDefault() {
        return (Boolean) Analysis.defaults().get("exclude_data_bar");
    }

    /** Rows left out at the top. */
    public int topRows() {
        return topRows;
    }

    /** Rows left out at the bottom. */
    public int bottomRows() {
        return bottomRows;
    }

    /** All rows left out. */
    public int excludedRows() {
        return topRows + bottomRows;
    }

    private static native int[] nativeDetect(Object pixels, int width, int height);
}
