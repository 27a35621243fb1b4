import ij.IJ;
import ij.ImageJ;
import ij.ImagePlus;
import ij.Prefs;
import ij.WindowManager;
import ij.gui.GenericDialog;

import java.awt.Button;
import java.awt.EventQueue;
import java.awt.Frame;
import java.awt.Rectangle;
import java.awt.Robot;
import java.awt.Window;
import java.awt.event.ActionEvent;
import java.awt.image.BufferedImage;
import java.io.File;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * Opens every Visual-CCC dialog and the windows each command makes, under Xvfb, and saves
 * a PNG of each into the folder given. Run by scripts/screenshots.sh.
 *
 *   java -cp ij.jar:. Screenshots SAMPLE.tif BATCH_INPUT BATCH_OUTPUT OUT_DIR LABELLED_DIR MODELS_DIR
 */
public class Screenshots {
    private static final String[][] COMMANDS = {
        {"analyze-micrograph", "Analyze Micrograph..."},
        {"classify-morphology", "Classify Morphology..."},
        {"morphology-map", "Morphology Map..."},
        {"class-activation-map", "Class Activation Map..."},
        {"preprocess", "Preprocess..."},
        {"threshold", "Threshold (Otsu / multi-Otsu)..."},
        {"texture", "Texture (GLCM)..."},
        {"cluster", "Cluster (k-means)..."},
        {"batch-process-folder", "Batch Process Folder..."},
        {"train-classifier", "Train Classifier..."},
        {"model-manager", "Model Manager..."},
        {"import-bioimage-model", "Import BioImage Model...", "cancel"},
        {"about", "About Visual-CCC"},
    };

    private static Robot robot;
    private static File out;

    public static void main(String[] args) throws Exception {
        Prefs.set("visualccc.batch.input", args[1]);
        Prefs.set("visualccc.batch.output", args[2]);
        Prefs.set("visualccc.cluster.k", 3);
        Prefs.set("visualccc.cluster.add_to_roi_manager", true);
        Prefs.set("visualccc.train.folder", args[4]);
        Prefs.set("visualccc.train.models_folder", args[5]);
        Prefs.set("visualccc.train.model_name", "synthetic-textures");
        out = new File(args[3]);
        out.mkdirs();
        new ImageJ();
        robot = new Robot();
        ImagePlus imp = IJ.openImage(args[0]);
        imp.getCalibration().pixelWidth = 0.25;
        imp.getCalibration().pixelHeight = 0.25;
        imp.getCalibration().setUnit("\u00b5m");
        imp.show();
        String title = imp.getTitle();
        Thread.sleep(1000);
        capture(IJ.getInstance(), "imagej-menu-bar");
        for (String[] command : COMMANDS) {
            IJ.selectWindow(title);
            Set<Window> before = visibleWindows();
            IJ.doCommand(command[1]);
            GenericDialog gd = waitForDialog(command[1].startsWith("About") ? 1500 : 20000);
            if (gd != null) {
                Thread.sleep(1200);
                capture(gd, command[0] + "-dialog");
                // Commands that need a file the script has none of are only shown.
                Button ok = gd.getButtons()[command.length > 2 ? 1 : 0];
                EventQueue.invokeAndWait(() -> gd.actionPerformed(
                        new ActionEvent(ok, ActionEvent.ACTION_PERFORMED, ok.getLabel())));
            }
            Thread.sleep(2500);
            for (Window w : visibleWindows()) {
                // The Log is no result window (and its one-line notices are wider than a screen).
                if (!before.contains(w) && !(w instanceof GenericDialog) && !fileName(w).equals("log")) {
                    fitTable(w);
                    capture(w, command[0] + "-" + fileName(w));
                }
            }
            if (command[0].equals("classify-morphology")) {
                capture(WindowManager.getImage(title).getWindow(), "classify-morphology-overlay");
            }
        }
        System.out.println("SCREENSHOTS-DONE");
        System.exit(0);
    }

    /** Widens a table window so that all its columns show. */
    private static void fitTable(Window w) throws Exception {
        if (w instanceof ij.text.TextWindow && ((ij.text.TextWindow) w).getResultsTable() != null) {
            ij.text.TextPanel panel = ((ij.text.TextWindow) w).getTextPanel();
            String[] headings = panel.getColumnHeadings().split("\t");
            // Each column as wide as its longest cell (about 8 pixels a character), at least 105.
            int[] chars = new int[headings.length];
            for (int c = 0; c < headings.length; c++) {
                chars[c] = headings[c].length();
            }
            for (int row = 0; row < panel.getLineCount(); row++) {
                String[] cells = panel.getLine(row).split("\t");
                for (int c = 0; c < Math.min(cells.length, chars.length); c++) {
                    chars[c] = Math.max(chars[c], cells[c].length());
                }
            }
            int total = 40;
            for (int n : chars) {
                total += Math.max(105, 8 * n + 12);
            }
            int width = Math.min(1580, total);
            EventQueue.invokeAndWait(() -> w.setBounds(0, w.getY(), Math.max(w.getWidth(), width), 180));
        }
    }

    /** A file name from the window's title, e.g. "Visual-CCC Clusters" -> visual-ccc-clusters. */
    private static String fileName(Window w) {
        String title = w instanceof Frame ? ((Frame) w).getTitle() : "window";
        return title.toLowerCase().replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    }

    private static Set<Window> visibleWindows() {
        Set<Window> windows = new HashSet<Window>();
        for (Window w : Window.getWindows()) {
            if (w.isShowing()) {
                windows.add(w);
            }
        }
        return windows;
    }

    private static GenericDialog waitForDialog(long millis) throws Exception {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            for (Window w : Window.getWindows()) {
                if (w instanceof GenericDialog && w.isShowing()) {
                    return (GenericDialog) w;
                }
            }
            Thread.sleep(50);
        }
        return null;
    }

    /**
     * Saves what the screen shows of {@code w}. Xvfb has no window manager, so raising a
     * window is not reliable: every other window is moved off the screen meanwhile and
     * put back afterwards. Dialogs are painted offscreen instead.
     */
    private static void capture(Window w, String name) throws Exception {
        if (w == null) {
            return;
        }
        java.util.Map<Window, java.awt.Point> moved = new java.util.HashMap<Window, java.awt.Point>();
        for (Window other : visibleWindows()) {
            if (other != w && other != w.getOwner()) {
                moved.put(other, other.getLocation());
            }
        }
        EventQueue.invokeAndWait(() -> {
            for (Window other : moved.keySet()) {
                other.setLocation(-4000, -4000);
            }
            w.toFront();
        });
        Thread.sleep(700);
        Rectangle r = w.getBounds();
        // Dialogs are painted offscreen: on Xvfb (no window manager) a dialog shown while
        // ImageJ is still busy with the previous command's windows is often black, or its
        // checkboxes half-painted, when the screen is read.
        BufferedImage image = w instanceof GenericDialog ? null : robot.createScreenCapture(r);
        // Other windows except images (which may well be dark) get a few seconds to paint.
        for (int retry = 0; image != null && !(w instanceof ij.gui.ImageWindow) && blackFraction(image) > 0.3
                && retry < 10; retry++) {
            Thread.sleep(500);
            EventQueue.invokeAndWait(w::toFront);
            image = robot.createScreenCapture(r);
        }
        EventQueue.invokeAndWait(() -> {
            for (java.util.Map.Entry<Window, java.awt.Point> entry : moved.entrySet()) {
                entry.getKey().setLocation(entry.getValue());
            }
        });
        if (image == null || isBlack(image)) {
            // Not on screen yet (or off it): let the window paint itself instead.
            BufferedImage painted = new BufferedImage(r.width, r.height, BufferedImage.TYPE_INT_RGB);
            EventQueue.invokeAndWait(w::validate);
            Thread.sleep(300);
            EventQueue.invokeAndWait(() -> {
                java.awt.Graphics g = painted.getGraphics();
                g.setColor(w.getBackground() != null ? w.getBackground() : java.awt.Color.lightGray);
                g.fillRect(0, 0, painted.getWidth(), painted.getHeight());
                w.printAll(g);
            });
            image = painted;
        }
        File file = new File(out, name + ".png");
        ImageIO.write(image, "png", file);
        String what = w instanceof Frame ? ((Frame) w).getTitle() : w instanceof java.awt.Dialog
                ? ((java.awt.Dialog) w).getTitle() : w.getClass().getSimpleName();
        System.out.println(file.getName() + ": " + what + " (" + r.width + "x" + r.height + " at " + r.x + ","
                + r.y + ")");
    }

    private static double blackFraction(BufferedImage image) {
        int black = 0;
        int all = 0;
        for (int y = 0; y < image.getHeight(); y += 4) {
            for (int x = 0; x < image.getWidth(); x += 4) {
                black += (image.getRGB(x, y) & 0xffffff) == 0 ? 1 : 0;
                all++;
            }
        }
        return black / (double) Math.max(1, all);
    }

    private static boolean isBlack(BufferedImage image) {
        for (int y = 0; y < image.getHeight(); y += 4) {
            for (int x = 0; x < image.getWidth(); x += 4) {
                if ((image.getRGB(x, y) & 0xffffff) != 0) {
                    return false;
                }
            }
        }
        return true;
    }
}
