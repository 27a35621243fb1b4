package org.visualccc.fiji;

import ij.ImagePlus;
import ij.gui.Roi;
import ij.io.FileSaver;
import ij.measure.ResultsTable;
import ij.process.ByteProcessor;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.visualccc.Model;

import java.io.File;
import java.io.IOException;
import java.util.Random;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** Train Classifier through its Java entry point: folders of three patterns. */
public class TrainClassifierTest {
    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    static final String[] CLASSES = {"blobs", "noise", "stripes"};

    /** A 400×400 image of {@code pattern} (0 blobs, 1 smooth noise, 2 stripes). */
    static ByteProcessor pattern(int pattern, long seed) {
        Random random = new Random(seed);
        ByteProcessor ip = new ByteProcessor(400, 400);
        double angle = random.nextDouble() * Math.PI;
        for (int y = 0; y < 400; y++) {
            for (int x = 0; x < 400; x++) {
                double v = 100 + 20 * random.nextGaussian();
                if (pattern == 2) {
                    v += 80 * Math.sin((x * Math.cos(angle) + y * Math.sin(angle)) / 4.0);
                }
                ip.set(x, y, (int) Math.max(0, Math.min(255, v)));
            }
        }
        if (pattern == 0) {
            ip.setColor(230);
            for (int i = 0; i < 60; i++) {
                int r = 6 + random.nextInt(10);
                ip.fillOval(random.nextInt(400), random.nextInt(400), 2 * r, 2 * r);
            }
        }
        if (pattern == 1) {
            ip.blurGaussian(3);
        }
        return ip;
    }

    static File labelledFolder(File root, int perClass, long firstSeed) {
        for (int c = 0; c < CLASSES.length; c++) {
            File dir = new File(root, CLASSES[c]);
            dir.mkdirs();
            for (long s = firstSeed; s < firstSeed + perClass; s++) {
                new FileSaver(new ImagePlus("p", pattern(c, s * 7 + c))).saveAsPng(new File(dir, s + ".png").getPath());
            }
        }
        return root;
    }

    @Test
    public void trainsFromFoldersSavesModelAndCardAndTheModelClassifies() throws IOException {
        File data = labelledFolder(temp.newFolder("data"), 3, 0);
        File models = temp.newFolder("models");
        File out = TrainClassifier.outputFile(models.getPath(), "patterns");
        ResultsTable table = TrainClassifier.train("morphology", data.getPath(), out.getPath(), new ResultsTable(),
                new TrainClassifier.Settings(0, 0, false));
        assertEquals(3, table.size());
        assertEquals("blobs", table.getStringValue("Class", 0));
        assertEquals(3, (int) table.getValue("Images", 0));
        assertTrue(table.columnExists("Predicted_stripes"));
        double accuracy = table.getValue("CV_accuracy", 0);
        assertTrue("CV accuracy " + accuracy, accuracy >= 0.66);
        assertTrue(new File(models, "patterns.md").isFile());
        try (Model model = Model.open(out.getPath())) {
            assertArrayEquals(CLASSES, model.classNames());
            assertTrue(model.hasFeatures());
            for (int c = 0; c < CLASSES.length; c++) {
                int predicted = model.classifyWhole(pattern(c, 1000 + c), 32, 8, Model.CAM_NONE).predictedIndex();
                assertEquals(CLASSES[c], CLASSES[predicted]);
            }
        }
    }

    @Test
    public void badInputIsRefusedWithTheReason() throws IOException {
        File one = temp.newFolder("one");
        new File(one, "only").mkdirs();
        new FileSaver(new ImagePlus("p", pattern(0, 1))).saveAsPng(new File(one, "only/a.png").getPath());
        File out = TrainClassifier.outputFile(temp.newFolder("models").getPath(), "x");
        try {
            TrainClassifier.train("morphology", one.getPath(), out.getPath(), new ResultsTable(),
                new TrainClassifier.Settings(0, 0, false));
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("at least two classes"));
        }
        try {
            TrainClassifier.outputFile(out.getParent(), "../evil");
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("Model name"));
        }
        assertTrue(!out.exists());
    }

    @Test
    public void roiCropsBecomeTrainingImagesPerClass() {
        ImagePlus imp = new ImagePlus("field.tif", pattern(2, 5));
        Roi stripes = new Roi(0, 0, 200, 120);
        stripes.setName("class:stripes");
        Roi other = new Roi(100, 100, 150, 150);
        other.setName("other");
        File dir = TrainClassifier.fromRois(imp, new Roi[] {stripes, other});
        File[] classes = dir.listFiles();
        assertEquals(1, classes.length);
        assertEquals("stripes", classes[0].getName());
        File[] crops = classes[0].listFiles();
        assertEquals(1, crops.length);
        ImagePlus crop = new ImagePlus(crops[0].getPath());
        assertEquals(200, crop.getWidth());
        assertEquals(120, crop.getHeight());
        try {
            TrainClassifier.fromRois(imp, new Roi[] {other});
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("class:<name>"));
        }
    }
}
