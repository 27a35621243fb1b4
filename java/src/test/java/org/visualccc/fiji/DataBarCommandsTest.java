package org.visualccc.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import ij.process.ByteProcessor;
import org.junit.Test;
import org.visualccc.BundledModels;
import org.visualccc.DataBar;
import org.visualccc.KMeans;
import org.visualccc.Texture;

import static org.junit.Assert.assertEquals;

/** Threshold with Exclude_data_bar: the instrument strip is found, reported and not counted. */
public class DataBarCommandsTest {
    private static final int WIDTH = 160;
    private static final int HEIGHT = 128;
    private static final int BAR_ROWS = 24;

    /** A noisy two-phase field; with {@code bar}, a black strip with white glyphs at the bottom. */
    static ByteProcessor micrograph(boolean bar) {
        ByteProcessor ip = new ByteProcessor(WIDTH, HEIGHT);
        int state = 12345;
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                state = state * 1103515245 + 12345;
                int noise = ((state >>> 16) & 0x7fff) % 31;
                int value = ((x / 20 + y / 20) % 2 == 0 ? 70 : 170) + noise;
                if (bar && y >= HEIGHT - BAR_ROWS) {
                    int row = y - (HEIGHT - BAR_ROWS);
                    boolean glyph = row >= 6 && row < 14 && x < 90 && x % 7 < 2;
                    boolean scaleBar = (row == 16 || row == 17) && x > 110;
                    value = glyph || scaleBar ? 255 : 0;
                }
                ip.set(x, y, value);
            }
        }
        return ip;
    }

    private static int count(ImagePlus labels, int value) {
        int n = 0;
        for (byte b : (byte[]) labels.getProcessor().getPixels()) {
            if ((b & 0xff) == value) {
                n++;
            }
        }
        return n;
    }

    @Test
    public void detectFindsTheBarAndNothingWithoutOne() {
        assertEquals(BAR_ROWS, DataBar.detect(micrograph(true)).bottomRows());
        assertEquals(0, DataBar.detect(micrograph(true)).topRows());
        assertEquals(0, DataBar.detect(micrograph(false)).excludedRows());
    }

    @Test
    public void thresholdLeavesTheBarOutOfCountsAndReportsIt() {
        ImagePlus imp = new ImagePlus("bar.tif", micrograph(true));
        ResultsTable table = new ResultsTable();
        ImagePlus labels = ThresholdOtsu.threshold(imp, 2, true, table);
        assertEquals(BAR_ROWS, table.getValue("Excluded rows", 0), 0);
        assertEquals(WIDTH * BAR_ROWS, count(labels, SelectionMask.OUTSIDE_LABEL));
        assertEquals(WIDTH * (HEIGHT - BAR_ROWS), table.getValue("Pixels 0", 0) + table.getValue("Pixels 1", 0), 0);
        assertEquals(1.0, table.getValue("Fraction 0", 0) + table.getValue("Fraction 1", 0), 1e-9);

        table = new ResultsTable();
        labels = ThresholdOtsu.threshold(imp, 2, false, table);
        assertEquals(0, table.getValue("Excluded rows", 0), 0);
        assertEquals(0, count(labels, SelectionMask.OUTSIDE_LABEL));
        assertEquals(WIDTH * HEIGHT, table.getValue("Pixels 0", 0) + table.getValue("Pixels 1", 0), 0);
    }

    @Test
    public void clusterLeavesTheBarOutOfTheFitAndCounts() {
        ImagePlus imp = new ImagePlus("bar.tif", micrograph(true));
        KMeans.Params params = new KMeans.Params().k(2).grey(true).smoothed(false, 2).foreground(false);
        ResultsTable table = new ResultsTable();
        ImagePlus labels = ClusterKMeans.cluster(imp, params, null, true, table);
        assertEquals(BAR_ROWS, table.getValue("Excluded rows", 0), 0);
        assertEquals(WIDTH * BAR_ROWS, count(labels, SelectionMask.OUTSIDE_LABEL));
        assertEquals(WIDTH * (HEIGHT - BAR_ROWS), table.getValue("Pixels", 0) + table.getValue("Pixels", 1), 0);
        assertEquals(1.0, table.getValue("Fraction", 0) + table.getValue("Fraction", 1), 1e-9);
    }

    @Test
    public void textureMapsAreNanInTheBar() {
        ImagePlus imp = new ImagePlus("bar.tif", micrograph(true));
        ResultsTable table = new ResultsTable();
        ImagePlus maps = TextureGlcm.texture(imp, new Texture.Params(), true, table);
        assertEquals(BAR_ROWS, table.getValue("Excluded rows", 0), 0);
        assertEquals(HEIGHT, maps.getHeight());
        float[] map = (float[]) maps.getStack().getPixels(1);
        int nan = 0;
        for (float v : map) {
            if (Float.isNaN(v)) {
                nan++;
            }
        }
        assertEquals(WIDTH * BAR_ROWS, nan);
    }

    @Test
    public void classifyReportsTheExcludedRows() {
        ImagePlus imp = new ImagePlus("bar.tif", micrograph(true));
        ResultsTable table = ClassifyMorphology.classify(imp, BundledModels.FIXTURE_TINY_LABEL, 40, false, true);
        assertEquals(BAR_ROWS, table.getValue("Excluded rows", table.size() - 1), 0);
        ImagePlus plain = new ImagePlus("plain.tif", micrograph(false));
        table = ClassifyMorphology.classify(plain, BundledModels.FIXTURE_TINY_LABEL, 40, false, true);
        assertEquals(0, table.getValue("Excluded rows", table.size() - 1), 0);
    }
}
