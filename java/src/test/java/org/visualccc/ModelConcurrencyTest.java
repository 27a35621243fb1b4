package org.visualccc;

import ij.process.ImageProcessor;
import org.junit.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** One Model shared by several threads gives exactly the sequential results. */
public class ModelConcurrencyTest {
    private static final int THREADS = 4;
    private static final int PER_THREAD = 20;

    @Test(timeout = 300000)
    public void fourThreadsMatchSequentialResults() throws Exception {
        try (final Model model = Model.open(TestSupport.fixtureTiny())) {
            final List<ImageProcessor> images = new ArrayList<ImageProcessor>();
            for (int i = 0; i < PER_THREAD; i++) {
                images.add(TestSupport.anyType(i, 120 + 7 * i, 90 + 5 * (i % 6), i));
            }
            final List<Classification> expected = new ArrayList<Classification>();
            for (ImageProcessor ip : images) {
                expected.add(model.classify(ip, Model.CAM_PREDICTED));
            }

            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                final CountDownLatch start = new CountDownLatch(1);
                List<Future<List<Classification>>> futures = new ArrayList<Future<List<Classification>>>();
                for (int t = 0; t < THREADS; t++) {
                    final int offset = t * 5;
                    futures.add(pool.submit(new Callable<List<Classification>>() {
                        @Override
                        public List<Classification> call() throws Exception {
                            start.await();
                            // Each thread walks the images from a different starting point.
                            List<Classification> results = new ArrayList<Classification>();
                            for (int k = 0; k < PER_THREAD; k++) {
                                int i = (offset + k) % PER_THREAD;
                                results.add(model.classify(images.get(i), Model.CAM_PREDICTED));
                            }
                            return results;
                        }
                    }));
                }
                start.countDown();
                for (int t = 0; t < THREADS; t++) {
                    List<Classification> results = futures.get(t).get(240, TimeUnit.SECONDS);
                    assertEquals(PER_THREAD, results.size());
                    for (int k = 0; k < PER_THREAD; k++) {
                        int i = (t * 5 + k) % PER_THREAD;
                        Classification want = expected.get(i);
                        Classification got = results.get(k);
                        String what = "thread " + t + ", image " + i;
                        assertEquals(what, want.predictedIndex(), got.predictedIndex());
                        assertArrayEquals(what, want.probabilities(), got.probabilities(), 0.0);
                        assertEquals(what, want.camClass(), got.camClass());
                        assertEquals(what, want.regionX(), got.regionX());
                        assertEquals(what, want.regionWidth(), got.regionWidth());
                        assertTrue(what, got.hasCam());
                        assertArrayEquals(what, want.cam(), got.cam(), 0f);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test(timeout = 120000)
    public void closeWaitsForRunningCallsAndLaterCallsFail() throws Exception {
        final Model model = Model.open(TestSupport.fixtureTiny());
        final ImageProcessor ip = TestSupport.gray8(400, 300, 1);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Integer>> futures = new ArrayList<Future<Integer>>();
            for (int t = 0; t < THREADS; t++) {
                futures.add(pool.submit(new Callable<Integer>() {
                    @Override
                    public Integer call() {
                        int done = 0;
                        for (int k = 0; k < 50; k++) {
                            try {
                                model.classify(ip, Model.CAM_PREDICTED);
                                done++;
                            } catch (IllegalStateException e) {
                                if (!e.getMessage().contains("closed")) {
                                    throw e;
                                }
                                return done;
                            }
                        }
                        return done;
                    }
                }));
            }
            Thread.sleep(200);
            model.close();
            model.close();
            for (Future<Integer> f : futures) {
                f.get(60, TimeUnit.SECONDS); // no crash, no other exception
            }
            try {
                model.classify(ip, Model.CAM_NONE);
                fail("expected IllegalStateException");
            } catch (IllegalStateException e) {
                assertTrue(e.getMessage().contains("closed"));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
