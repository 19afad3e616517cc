import QtQuick

// 炫彩活体 screen side: a thick coloured frame around the live preview that shows a colour-flash
// sequence (kiosk.pad.flash.FlashSequence.to_qml() gives every property below).
//
// Timeline, identical to FlashSequence.colour_at(t) with t = seconds since started():
//   neutral for leadIn | ramp to colours[0], held durations[0] | ramp to colours[1] ... | ramp to neutral
// Ramps are ColorAnimations of `ramp` seconds with Easing.InOutSine (raised cosine on the RGB
// components, as colour_at). Holds under 0.3 s and ramps under 0.2 s are raised to those floors,
// so colour changes start >= 0.5 s apart: at most 2 changes (1 flash) in any second, under the
// 3 flashes a second of WCAG 2.3.1.
//
// Usage (the integrator puts it over the face screen; its centre is transparent):
//   FlashBorder { anchors.fill: parent; colours: seq.colours; durations: seq.durations
//                 neutral: seq.neutral; leadIn: seq.leadIn; ramp: seq.ramp
//                 running: true; onStarted: (t0) => engine.flashStarted(t0) }
Item {
    id: root

    property var colours: []          // ["#rrggbb", ...] 3-5 colours
    property var durations: []        // seconds each colour is held (ramps not included)
    property color neutral: "#faf7f0" // shown before and after (the app's background, Theme.bg)
    property real leadIn: 0.6         // seconds of neutral before the first ramp
    property real ramp: 0.2           // seconds of each soft transition
    property bool running: false      // true starts the sequence from its lead-in; false stops it
                                      // (it stays true after finished(): set false, then true, to rerun)
    // Width of the lit frame. 18 % of the short side: on a 15.6" 1920x1080 screen a ~35 mm band
    // (~0.033 m^2 lit) that adds ~33 lx on a face at 50 cm; the centre (80 % x 64 %) stays clear.
    property real borderWidth: Math.round(0.18 * Math.min(width, height))
    property real radius: 0

    readonly property color current: frame.border.color
    readonly property real minHold: 0.3
    readonly property real minRamp: 0.2
    property int index: -1            // colour being shown (-1: neutral lead-in, colours.length: back to neutral)

    signal started(real t0)           // t0 = Date.now() / 1000 at the start of the lead-in
    signal finished()                 // after the last ramp back to neutral

    function _hold(i) {
        var d = Number(durations[i]);
        if (!(d >= minHold)) {
            console.warn("FlashBorder: hold", d, "raised to", minHold);
            d = minHold;
        }
        return d;
    }
    function _ramp() { return Math.max(minRamp, ramp); }

    function start() {
        if (colours.length === 0 || colours.length !== durations.length) {
            console.warn("FlashBorder: one duration per colour needed");
            return;
        }
        anim.enabled = false;
        frame.border.color = neutral;
        anim.enabled = true;
        index = -1;
        step.interval = Math.round(leadIn * 1000);
        step.restart();
        root.started(Date.now() / 1000);
    }
    function stop() {
        step.stop();
        index = -1;
        frame.border.color = neutral;
    }
    onRunningChanged: running ? start() : stop()
    Component.onCompleted: if (running) start()

    Timer {
        id: step
        repeat: false
        onTriggered: {
            root.index += 1;
            if (root.index < root.colours.length) {
                frame.border.color = root.colours[root.index];
                interval = Math.round((root._ramp() + root._hold(root.index)) * 1000);
                restart();
            } else if (root.index === root.colours.length) {
                frame.border.color = root.neutral;
                interval = Math.round(root._ramp() * 1000);
                restart();
            } else {
                root.finished();
            }
        }
    }

    Rectangle {
        id: frame
        anchors.fill: parent
        color: "transparent"
        radius: root.radius
        border.width: root.borderWidth
        border.color: root.neutral
        Behavior on border.color {
            id: anim
            ColorAnimation { duration: Math.round(root._ramp() * 1000); easing.type: Easing.InOutSine }
        }
    }
}
