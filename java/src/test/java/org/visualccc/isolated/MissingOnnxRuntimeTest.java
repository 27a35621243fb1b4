package org.visualccc.isolated;

import ij.process.ByteProcessor;
import org.junit.Test;
import org.visualccc.AnalysisTestSupport;
import org.visualccc.Clustering;
import org.visualccc.KMeans;
import org.visualccc.Model;
import org.visualccc.NativeLibrary;
import org.visualccc.TestSupport;
import org.visualccc.VisualCccException;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/**
 * Runs in its own JVM (gradle task testMissingOnnxRuntime) with
 * {@code -Dvisualccc.onnxruntime=/nonexistent/libonnxruntime.so}: an explicit setting
 * that points nowhere is an error, not a reason to look elsewhere.
 */
public class MissingOnnxRuntimeTest {
    private static final String MISSING = "/nonexistent/libonnxruntime.so";

    @Test
    public void explicitMissingOnnxRuntimeIsARuntimeErrorNamingThePath() {
        assertEquals("this test needs -D" + Model.ONNXRUNTIME_PROPERTY + "=" + MISSING,
                MISSING, System.getProperty(Model.ONNXRUNTIME_PROPERTY));
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                Model.open(TestSupport.fixtureTiny()).close();
                fail("expected VisualCccException(RUNTIME)");
            } catch (VisualCccException e) {
                assertEquals(e.getMessage(), VisualCccException.Kind.RUNTIME, e.kind());
                assertTrue(e.getMessage(), e.getMessage().contains(MISSING));
            }
        }
        // The JVM and the native library are still fine.
        assertTrue(NativeLibrary.version().length() > 0);
    }

    @Test
    public void defaultClusteringNamesTheLearnedFeatureAndWorksWithoutIt() {
        ByteProcessor ip = AnalysisTestSupport.halves(40, 30, 40, 200, 5, 1);
        try {
            KMeans.cluster(ip, new KMeans.Params(), null);
            fail("expected VisualCccException(RUNTIME)");
        } catch (VisualCccException e) {
            assertEquals(e.getMessage(), VisualCccException.Kind.RUNTIME, e.kind());
            assertTrue(e.getMessage(), e.getMessage().contains(MISSING));
            assertTrue(e.getMessage(), e.getMessage().contains("learned foreground"));
        }
        Clustering c = KMeans.cluster(ip, new KMeans.Params().foreground(false), null);
        assertEquals(2, c.clusterCount());
    }
}
