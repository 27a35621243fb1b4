package org.visualccc.fiji;

import ij.ImagePlus;
import ij.io.FileSaver;
import ij.io.Opener;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.visualccc.AnalysisTestSupport;
import org.visualccc.KMeans;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

/**
 * Batch Process Folder's worker on 100 generated 128x128 images plus 3 unreadable files:
 * one row per image, the unreadable files reported, a second run does no work, and a
 * cancelled run leaves only complete outputs and resumes to the full result.
 */
public class BatchProcessorTest {
    private static final int IMAGES = 100;
    private static final List<String> CORRUPT = Arrays.asList("empty.png", "garbage.tif", "sub/truncated.tif");

    @ClassRule
    public static TemporaryFolder shared = new TemporaryFolder();
    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private static File input;

    @BeforeClass
    public static void generateFolder() throws IOException {
        input = shared.newFolder("input");
        File sub = new File(input, "sub");
        assertTrue(sub.mkdir());
        for (int i = 0; i < IMAGES; i++) {
            ImagePlus imp = new ImagePlus("img" + i, AnalysisTestSupport.halves(128, 128, 30 + i % 50, 200, 12, i));
            File dir = i % 4 == 0 ? sub : input;
            assertTrue(new FileSaver(imp).saveAsTiff(new File(dir, String.format("img%03d.tif", i)).getPath()));
        }
        assertTrue(new File(input, "empty.png").createNewFile());
        byte[] garbage = new byte[5000];
        new Random(3).nextBytes(garbage);
        Files.write(new File(input, "garbage.tif").toPath(), garbage);
        byte[] tiff = Files.readAllBytes(new File(input, "img001.tif").toPath());
        Files.write(new File(sub, "truncated.tif").toPath(), Arrays.copyOf(tiff, 400));
        Files.write(new File(input, "notes.txt").toPath(), "not an image".getBytes(StandardCharsets.UTF_8));
    }

    private BatchProcessor.Settings settings(File output) {
        return new BatchProcessor.Settings().input(input).output(output).recursive(true)
                .clustering(new KMeans.Params().k(3)).saveHeatmaps(true).saveLabels(true);
    }

    private static List<String[]> rows(File output) throws IOException {
        List<String> lines = Files.readAllLines(new File(output, BatchProcessor.SUMMARY_FILE).toPath());
        List<String[]> rows = new ArrayList<String[]>();
        for (String line : lines.subList(1, lines.size())) {
            rows.add(line.split(",", -1));
        }
        return rows;
    }

    private static List<Path> files(File output) throws IOException {
        try (Stream<Path> walk = Files.walk(output.toPath())) {
            return walk.filter(Files::isRegularFile).collect(Collectors.toList());
        }
    }

    @Test
    public void processesEveryImageSkipsUnreadableFilesAndResumesWithNoWork() throws IOException {
        File output = temp.newFolder("out");
        BatchProcessor.Summary first = BatchProcessor.run(settings(output), null, null);
        assertEquals(IMAGES + CORRUPT.size(), first.found);
        assertEquals(IMAGES, first.processed);
        assertEquals(0, first.alreadyDone);
        assertFalse(first.cancelled);
        Set<String> skipped = new HashSet<String>();
        for (BatchProcessor.Skip s : first.skipped) {
            skipped.add(s.file);
            assertFalse(s.reason.isEmpty());
        }
        assertEquals(new HashSet<String>(CORRUPT), skipped);
        assertEquals("File,Reason", Files.readAllLines(new File(output, BatchProcessor.SKIPPED_FILE).toPath()).get(0));
        assertEquals(1 + CORRUPT.size(),
                Files.readAllLines(new File(output, BatchProcessor.SKIPPED_FILE).toPath()).size());

        List<String> header = Arrays.asList(Files.readAllLines(
                new File(output, BatchProcessor.SUMMARY_FILE).toPath()).get(0).split(","));
        assertEquals("File", header.get(0));
        assertTrue(header.toString(), header.contains("Class"));
        assertTrue(header.contains("Fraction cluster 2"));
        assertTrue(header.contains("contrast"));
        List<String[]> rows = rows(output);
        assertEquals(IMAGES, rows.size());
        Set<String> names = new HashSet<String>();
        for (String[] row : rows) {
            names.add(row[0]);
            assertEquals(header.size(), row.length);
            double fractions = 0;
            for (int c = 0; c < 3; c++) {
                fractions += Double.parseDouble(row[header.indexOf("Fraction cluster " + c)]);
            }
            assertEquals(1.0, fractions, 1e-4);
            File heatmap = new File(output, row[header.indexOf("Heatmap")]);
            File labels = new File(output, row[header.indexOf("Labels")]);
            assertTrue(heatmap.isFile());
            assertTrue(labels.isFile());
        }
        assertEquals(IMAGES, names.size());
        assertTrue(names.contains("sub/img000.tif"));
        ImagePlus labels = new Opener().openImage(new File(output, "labels/sub/img000.tif-clusters.tif").getPath());
        assertNotNull(labels);
        assertEquals(8, labels.getBitDepth());
        assertEquals(128, labels.getWidth());
        ImagePlus heatmap = new Opener().openImage(new File(output, "heatmaps/img001.tif-CAM.tif").getPath());
        assertEquals(32, heatmap.getBitDepth());

        long modified = new File(output, BatchProcessor.SUMMARY_FILE).lastModified();
        BatchProcessor.Summary second = BatchProcessor.run(settings(output), null, null);
        assertEquals(0, second.processed);
        assertEquals(IMAGES, second.alreadyDone);
        assertEquals(CORRUPT.size(), second.skipped.size());
        assertEquals(IMAGES, rows(output).size());
        assertEquals(modified, new File(output, BatchProcessor.SUMMARY_FILE).lastModified());
    }

    @Test
    public void cancelledRunLeavesOnlyCompleteOutputsAndResumes() throws IOException {
        File output = temp.newFolder("cancelled");
        int[] seen = new int[1];
        BatchProcessor.Summary cancelled = BatchProcessor.run(settings(output), () -> seen[0] >= 10,
                (done, total, file, eta) -> seen[0] = done);
        assertTrue(cancelled.cancelled);
        assertTrue(cancelled.processed < IMAGES);
        List<String[]> rows = rows(output);
        assertEquals(cancelled.processed, rows.size());
        // Exactly the outputs named by the rows exist, each one a whole image.
        Set<String> expected = new HashSet<String>(Arrays.asList(BatchProcessor.SUMMARY_FILE,
                BatchProcessor.SKIPPED_FILE));
        for (String[] row : rows) {
            expected.add(row[row.length - 2]);
            expected.add(row[row.length - 1]);
        }
        Set<String> actual = new HashSet<String>();
        for (Path p : files(output)) {
            actual.add(output.toPath().relativize(p).toString().replace(File.separatorChar, '/'));
            if (p.toString().endsWith(".tif")) {
                ImagePlus imp = new Opener().openImage(p.toString());
                assertNotNull(p + " is not a readable image", imp);
                assertEquals(128, imp.getHeight());
            }
        }
        assertEquals(expected, actual);

        BatchProcessor.Summary resumed = BatchProcessor.run(settings(output), null, null);
        assertEquals(IMAGES - cancelled.processed, resumed.processed);
        assertEquals(cancelled.processed, resumed.alreadyDone);
        assertEquals(IMAGES, rows(output).size());
    }

    @Test
    public void refusesAnOutputFolderMadeWithOtherSettings() throws IOException {
        File output = temp.newFolder("other");
        Files.write(new File(output, BatchProcessor.SUMMARY_FILE).toPath(),
                "File,Something else\n".getBytes(StandardCharsets.UTF_8));
        AnalysisTestSupport.assertRejected("other settings", () -> {
            try {
                BatchProcessor.run(settings(output), null, null);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    public void dialogDefaultsAreTheCoreDefaults() {
        // The dialogs read these from the core; the core's recipe is k = 3, outputs off.
        assertEquals(3, BatchProcessFolder.defaultK());
        assertEquals(Boolean.FALSE, org.visualccc.Batch.batchDefault("save_heatmaps"));
        assertEquals("*.{tif,tiff,png,jpg,jpeg,bmp}", BatchProcessor.DEFAULT_PATTERN);
    }

    @Test
    public void durationsAreMinutesOrHours() {
        assertEquals("0:05", BatchProcessFolder.duration(4.6));
        assertEquals("2:03", BatchProcessFolder.duration(123));
        assertEquals("1:00:01", BatchProcessFolder.duration(3601));
    }
}
