import ij.IJ;
import ij.ImageJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.Prefs;
import ij.WindowManager;
import ij.gui.GenericDialog;
import ij.measure.ResultsTable;
import ij.plugin.frame.Recorder;

import java.awt.Button;
import java.awt.EventQueue;
import java.awt.Window;
import java.awt.event.ActionEvent;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Records every Visual-CCC command with ImageJ's Macro Recorder, the way a person does:
 * each command is started as from the menu, its dialog (pre-filled from ij.Prefs) is
 * confirmed with OK, and the Recorder writes the run(...) line. Then the recorded lines are
 * replayed as a macro on a fresh copy of the image; for every command the result (the
 * pixels of the image it makes, the last row of its table, the batch summary) must be the
 * same as when it was recorded.
 *
 * Usage (under Xvfb, plugins.dir holding plugins/Visual_CCC.jar):
 *   java -cp ij.jar:. RecordReplay SAMPLE.tif BATCH_INPUT_DIR BATCH_OUTPUT_DIR MACRO_OUT
 */
public class RecordReplay {
    /** Command, table it fills (or "" for none), "image" if it makes an image. */
    private static final String[][] COMMANDS = {
        {"Preprocess...", "", "image"},
        {"Threshold (Otsu / multi-Otsu)...", "Visual-CCC Threshold", "image"},
        {"Texture (GLCM)...", "Visual-CCC Texture", "image"},
        {"Cluster (k-means)...", "Visual-CCC Clusters", "image"},
        {"Classify Morphology...", "Visual-CCC Classification", "image"},
        {"Morphology Map...", "Visual-CCC Morphology Map", "image"},
        {"Class Activation Map...", "Visual-CCC Activation Map", "image"},
        {"Analyze Micrograph...", "Visual-CCC Analysis", "image"},
        {"Batch Process Folder...", "", ""},
        {"Model Manager...", "Visual-CCC Models", ""},
        {"Import BioImage Model...", "", ""},
        {"Visual-CCC Options...", "", ""},
        {"About Visual-CCC", "", ""},
    };

    public static void main(String[] args) throws Exception {
        String sample = args[0];
        File batchOut = new File(args[2]);
        Prefs.set("visualccc.batch.input", args[1]);
        Prefs.set("visualccc.batch.output", args[2]);
        Prefs.set("visualccc.cluster.k", 3);
        // The test package (tests/fixtures/bioimageio) and where Import puts its model.
        File imported = new File(args[2] + "-models");
        Prefs.set("visualccc.import.package", System.getProperty("visualccc.test.package"));
        Prefs.set("visualccc.import.models_folder", imported.getPath());
        new ImageJ(ImageJ.NO_SHOW);
        Recorder recorder = new Recorder(false);
        Recorder.record = true;

        ImagePlus imp = IJ.openImage(sample);
        imp.show();
        String title = imp.getTitle();
        List<String> lines = new ArrayList<String>();
        List<String> recorded = new ArrayList<String>();
        for (String[] command : COMMANDS) {
            IJ.selectWindow(title);
            int before = recorder.getText().length();
            IJ.doCommand(command[0]);
            confirmDialog(command[0]);
            String line = waitForLine(recorder, before, command[0]);
            waitIdle();
            lines.add(line);
            recorded.add(snapshot(command, batchOut));
            System.out.println("recorded: " + line);
        }
        Recorder.record = false;
        Files.write(new File(args[3]).toPath(), String.join("\n", lines).getBytes(StandardCharsets.UTF_8));

        // Replay on a fresh copy of the image, with the recorded lines only.
        closeAll();
        deleteTree(batchOut);
        deleteTree(new File(batchOut.getPath() + "-models"));
        ImagePlus fresh = IJ.openImage(sample);
        fresh.show();
        int failures = 0;
        for (int i = 0; i < COMMANDS.length; i++) {
            IJ.selectWindow(title);
            String macro = lines.get(i);
            Thread replay = new Thread(() -> IJ.runMacro(macro), "replay");
            replay.start();
            replay.join(60000);
            if (replay.isAlive()) {
                throw new IllegalStateException("replaying " + macro + " did not finish; dialogs:" + dialogs());
            }
            waitIdle();
            String replayed = snapshot(COMMANDS[i], batchOut);
            boolean same = replayed.equals(recorded.get(i));
            failures += same ? 0 : 1;
            System.out.println((same ? "SAME " : "DIFFERENT ") + COMMANDS[i][0]
                    + (same ? "" : "\n  recorded: " + recorded.get(i) + "\n  replayed: " + replayed));
        }
        System.out.println(failures == 0 ? "RECORD-REPLAY-OK" : "RECORD-REPLAY-FAILED " + failures);
        System.exit(failures == 0 ? 0 : 1);
    }

    /** Dialogs already confirmed: one may still be showing while it is disposed. */
    private static final java.util.Set<Window> CONFIRMED =
            java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<Window, Boolean>());

    /** Waits for the command's dialog (if it has one) and presses its OK button. */
    private static void confirmDialog(String command) throws Exception {
        long end = System.currentTimeMillis() + 20000;
        while (System.currentTimeMillis() < end) {
            for (Window w : Window.getWindows()) {
                if (w instanceof GenericDialog && w.isShowing() && CONFIRMED.add(w)) {
                    GenericDialog gd = (GenericDialog) w;
                    Button ok = gd.getButtons()[0];
                    EventQueue.invokeAndWait(() -> gd.actionPerformed(
                            new ActionEvent(ok, ActionEvent.ACTION_PERFORMED, ok.getLabel())));
                    return;
                }
            }
            if (command.startsWith("About")) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("no dialog appeared for " + command);
    }

    private static String waitForLine(Recorder recorder, int from, String command) throws Exception {
        long end = System.currentTimeMillis() + 60000;
        String prefix = "run(\"" + command + "\"";
        while (System.currentTimeMillis() < end) {
            String text = recorder.getText();
            for (String line : text.substring(Math.min(from, text.length())).split("\n")) {
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the Recorder recorded no line for " + command + "; dialogs:" + dialogs()
                + "\n" + recorder.getText());
    }

    /** The titles and messages of the dialogs on screen. */
    private static String dialogs() {
        StringBuilder text = new StringBuilder();
        for (Window w : Window.getWindows()) {
            if (w.isShowing() && w instanceof java.awt.Dialog) {
                text.append(' ').append(describe(w));
            }
        }
        return text.toString();
    }

    /** A window's title and, for message dialogs, their text. */
    private static String describe(java.awt.Container container) {
        StringBuilder s = new StringBuilder(container instanceof java.awt.Dialog
                ? ((java.awt.Dialog) container).getTitle() : "");
        for (java.awt.Component c : container.getComponents()) {
            if (c instanceof ij.gui.MultiLineLabel) {
                try {
                    java.lang.reflect.Field lines = ij.gui.MultiLineLabel.class.getDeclaredField("lines");
                    lines.setAccessible(true);
                    s.append(" [").append(String.join(" ", (String[]) lines.get(c))).append(']');
                } catch (ReflectiveOperationException e) {
                    s.append(" [?]");
                }
            } else if (c instanceof java.awt.Container) {
                s.append(describe((java.awt.Container) c));
            }
        }
        return s.toString();
    }

    /** Waits until no command thread is running. */
    private static void waitIdle() throws Exception {
        Thread.sleep(200);
        long end = System.currentTimeMillis() + 60000;
        while (System.currentTimeMillis() < end && busy()) {
            Thread.sleep(50);
        }
    }

    private static boolean busy() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && (t.getName().startsWith("Run$_") || t.getName().equals(commandThreadName()))) {
                return true;
            }
        }
        return false;
    }

    private static String commandThreadName() {
        return "Run$_" + "command";
    }

    /** The front image's title and pixels, the last row of the command's table, the batch CSV. */
    private static String snapshot(String[] command, File batchOut) throws Exception {
        StringBuilder s = new StringBuilder();
        if (!command[2].isEmpty()) {
            // Every open image, by title: which of several new images ends up in front is a
            // matter of window timing, not of the command's outputs.
            java.util.TreeMap<String, Integer> images = new java.util.TreeMap<String, Integer>();
            for (int id : WindowManager.getIDList() == null ? new int[0] : WindowManager.getIDList()) {
                ImagePlus image = WindowManager.getImage(id);
                images.put(image.getTitle(), pixelHash(image.getStack()));
            }
            s.append(images);
        }
        if (!command[1].isEmpty()) {
            ResultsTable table = ResultsTable.getResultsTable(command[1]);
            s.append(" | ").append(table == null ? "no table" : table.getRowAsString(table.size() - 1));
        }
        if (command[0].startsWith("Import")) {
            File[] files = new File(batchOut.getPath() + "-models").listFiles();
            java.util.TreeMap<String, Long> sizes = new java.util.TreeMap<String, Long>();
            for (File f : files == null ? new File[0] : files) {
                sizes.put(f.getName(), f.length());
            }
            s.append(" | imported ").append(sizes);
        }
        if (command[0].startsWith("Batch")) {
            File csv = new File(batchOut, "visual-ccc-summary.csv");
            s.append(" | ").append(csv.isFile() ? new String(Files.readAllBytes(csv.toPath()),
                    StandardCharsets.UTF_8) : "no summary");
        }
        return s.toString();
    }

    private static int pixelHash(ImageStack stack) {
        int hash = 1;
        for (int i = 1; i <= stack.getSize(); i++) {
            Object p = stack.getPixels(i);
            int h = p instanceof byte[] ? Arrays.hashCode((byte[]) p) : p instanceof short[]
                    ? Arrays.hashCode((short[]) p) : p instanceof float[] ? Arrays.hashCode((float[]) p)
                    : Arrays.hashCode((int[]) p);
            hash = 31 * hash + h;
        }
        return hash;
    }

    private static void closeAll() {
        for (Window w : WindowManager.getAllNonImageWindows()) {
            if (w instanceof ij.text.TextWindow && ((ij.text.TextWindow) w).getResultsTable() != null) {
                ((ij.text.TextWindow) w).close(false);
            }
        }
        int[] ids = WindowManager.getIDList();
        if (ids != null) {
            for (int id : ids) {
                ImagePlus image = WindowManager.getImage(id);
                image.changes = false;
                image.close();
            }
        }
    }

    private static void deleteTree(File dir) throws Exception {
        if (!dir.exists()) {
            return;
        }
        Files.walk(dir.toPath()).sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }
}
