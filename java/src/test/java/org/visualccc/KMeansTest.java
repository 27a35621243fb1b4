package org.visualccc;

import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import org.junit.Test;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.visualccc.AnalysisTestSupport.assertRejected;

/** {@link KMeans} and {@link Clustering} against the real native library. */
public class KMeansTest {
    @Test
    public void twoHalvesGiveTwoClustersOrderedByMeanGrey() {
        ByteProcessor ip = AnalysisTestSupport.halves(60, 40, 60, 190, 10, 3);
        Clustering c = KMeans.cluster(ip, new KMeans.Params().k(2).calibration(0.5, 0.25, "µm"), null);
        assertEquals(2, c.clusterCount());
        ByteProcessor labels = c.labelProcessor();
        assertEquals("dark half is cluster 0", 0, labels.get(10, 20));
        assertEquals("bright half is cluster 1", 1, labels.get(50, 20));
        assertTrue(c.meanGrey(0) < c.meanGrey(1));
        assertEquals(2400, c.pixelCount(0) + c.pixelCount(1));
        assertEquals(1.0, c.areaFraction(0) + c.areaFraction(1), 1e-12);
        assertEquals(c.pixelCount(1) * 0.5 * 0.25, c.area(1), 1e-9);
        assertEquals("µm", c.unit());
        assertArrayEquals(new String[]{"smoothed grey (sigma 2)", "foreground (learned)"}, c.featureNames());
        assertEquals(c.meanGrey(1), c.featureMean(1, 0), 5);
        assertTrue(c.inertia() >= 0);
        assertEquals(2400, c.sampleSize());
        ByteProcessor mask = c.mask(1);
        assertEquals(255, mask.get(50, 20));
        assertEquals(0, mask.get(10, 20));
    }

    @Test
    public void resultsDependOnlyOnTheSeed() {
        ImageProcessor ip = TestSupport.gray16(80, 60, 2);
        KMeans.Params params = new KMeans.Params().k(4).grey(true).localVariance(true, 2).seed(7);
        byte[] a = KMeans.cluster(ip, params, null).labels();
        byte[] b = KMeans.cluster(ip, params.copy(), null).labels();
        assertArrayEquals(a, b);
    }

    @Test
    public void everyTypeAndFeatureCombinationClusters() {
        for (int type = 0; type < 4; type++) {
            ImageProcessor ip = TestSupport.anyType(type, 40, 30, type);
            KMeans.Params params = new KMeans.Params().k(3).grey(true).smoothed(true, 1.5).localVariance(true, 1)
                    .positionWeight(0.5);
            Clustering c = KMeans.cluster(ip, params, null);
            assertEquals(6, c.featureNames().length);
            assertEquals("foreground (learned)", c.featureNames()[3]);
            assertEquals("x", c.featureNames()[4]);
            assertEquals(1200, c.pixelCount(0) + c.pixelCount(1) + c.pixelCount(2));
        }
    }

    @Test
    public void aSuppliedFeatureMapIsUsed() {
        // Grey is uniform; only the map separates top from bottom.
        ByteProcessor ip = new ByteProcessor(30, 20);
        ip.set(100);
        FloatProcessor cam = new FloatProcessor(30, 20);
        for (int y = 10; y < 20; y++) {
            for (int x = 0; x < 30; x++) {
                cam.setf(x, y, 1f);
            }
        }
        Map<String, ImageProcessor> maps = new LinkedHashMap<String, ImageProcessor>();
        maps.put("CAM", cam);
        Clustering c = KMeans.cluster(ip, new KMeans.Params().k(2).smoothed(false, 2).foreground(false), maps);
        assertArrayEquals(new String[]{"CAM"}, c.featureNames());
        ByteProcessor labels = c.labelProcessor();
        assertTrue(labels.get(5, 2) != labels.get(5, 15));
        assertEquals(300, c.pixelCount(0));
    }

    @Test
    public void badSettingsAreRejectedWithTheCoresMessage() {
        ByteProcessor ip = TestSupport.gray8(32, 32, 1);
        assertRejected("between 2 and 255, got 1", () -> KMeans.cluster(ip, new KMeans.Params().k(1), null));
        assertRejected("between 2 and 255, got 256", () -> KMeans.cluster(ip, new KMeans.Params().k(256), null));
        assertRejected("'k'", () -> KMeans.cluster(ip, new KMeans.Params().k(-2), null));
        assertRejected("no features chosen",
                () -> KMeans.cluster(ip, new KMeans.Params().smoothed(false, 2).foreground(false), null));
        assertRejected("sigma must be", () -> KMeans.cluster(ip, new KMeans.Params().smoothed(true, 0), null));
        assertRejected("window radius", () -> KMeans.cluster(ip, new KMeans.Params().localVariance(true, 0),
                null));
        assertRejected("n_init", () -> KMeans.cluster(ip, new KMeans.Params().nInit(0), null));
        assertRejected("tolerance", () -> KMeans.cluster(ip, new KMeans.Params().tolerance(-1), null));
        assertRejected("position weight", () -> KMeans.cluster(ip, new KMeans.Params().positionWeight(-1), null));
        assertRejected("pixel width", () -> KMeans.cluster(ip, new KMeans.Params().calibration(0, 1, "um"), null));
        assertRejected("fewer than the 5 clusters",
                () -> KMeans.cluster(new ByteProcessor(2, 2), new KMeans.Params().k(5), null));
        assertRejected("NaN", () -> KMeans.cluster(AnalysisTestSupport.withNaN(ip), new KMeans.Params(), null));
        assertRejected("image is empty", () -> KMeans.cluster(AnalysisTestSupport.empty(), new KMeans.Params(),
                null));
        Map<String, ImageProcessor> small = Collections.<String, ImageProcessor>singletonMap("tiny",
                new FloatProcessor(4, 4));
        assertRejected("'tiny' is 4x4", () -> KMeans.cluster(ip, new KMeans.Params(), small));
        FloatProcessor nanMap = new FloatProcessor(32, 32);
        nanMap.setf(1, 1, Float.NaN);
        assertRejected("non-finite", () -> KMeans.cluster(ip, new KMeans.Params(),
                Collections.<String, ImageProcessor>singletonMap("bad", nanMap)));
    }

    @Test
    public void clusterIndicesAreChecked() {
        Clustering c = KMeans.cluster(AnalysisTestSupport.halves(20, 20, 10, 200, 0, 1), new KMeans.Params(), null);
        assertRejected("cluster 2 does not exist: labels run from 0 to 1", () -> c.mask(2));
        assertRejected("cluster -1 does not exist", () -> c.area(-1));
    }
}
