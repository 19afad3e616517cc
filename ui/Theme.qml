pragma Singleton
import QtQuick

// One theme for every screen (a singleton of the module Kiosk, ui/qmldir). Sizes are for a 1080-pixel short side and scale with
// the window; 关怀大字版 (elder) makes everything larger, slower and plainer.
QtObject {
    readonly property bool elder: App.elderMode
    property real winW: 1920            // the window's size, set by Main.qml
    property real winH: 1080
    property real dotsPerMm: 4          // Screen.pixelDensity, set by Main.qml
    readonly property string family: App.fontFamily

    readonly property bool portrait: winH > winW * 1.1
    readonly property real f: Math.max(0.55, Math.min(winW, winH) / 1080)

    // Text sizes in px (elder at 1080p: body 40 >= 36, small 36 >= 36, title 60 >= 56).
    readonly property int body: Math.round((elder ? 40 : 30) * f)
    readonly property int small: Math.round((elder ? 36 : 24) * f)
    readonly property int title: Math.round((elder ? 60 : 46) * f)
    readonly property int huge: Math.round((elder ? 84 : 68) * f)
    readonly property int keyText: Math.round((elder ? 56 : 46) * f)

    // Touch targets: at least 15 mm in elder mode (and never under the scaled minimum).
    readonly property real touch: Math.max((elder ? 128 : 104) * f, (elder ? 15 : 11) * dotsPerMm)
    readonly property real gap: Math.round((elder ? 28 : 22) * f)
    readonly property real margin: Math.round((elder ? 40 : 36) * f)
    readonly property real radius: Math.round(16 * f)

    // Colours: every text/background pair is at least 7:1 (WCAG AAA).
    readonly property color bg: elder ? "#FFFFFF" : "#FAF7F0"          // text #141414 on it: 17:1
    readonly property color panel: "#FFFFFF"
    readonly property color text: "#141414"
    readonly property color textSoft: "#333333"                         // 12:1 on bg
    readonly property color primary: "#0B4A8B"                          // white on it: 8.9:1
    readonly property color primaryPressed: "#062E58"
    readonly property color primaryText: "#FFFFFF"
    readonly property color border: "#141414"
    readonly property color good: "#17562A"                             // 8.7:1 on white
    readonly property color bad: "#9E1118"                              // 8.1:1 on white
    readonly property color header: "#0B2545"                           // white on it: 15:1
    readonly property color demo: "#8A3B00"                             // white on it: 7.8:1
    readonly property color selected: "#E3EEFA"                         // text on it: 15:1
    readonly property color pressed: "#E6E6E6"                          // text on it: 14:1
    readonly property color disabled: "#E4E4E4"                         // a greyed button (no opacity)
    readonly property color disabledText: "#2E2E2E"                     // on disabled: 10.8:1

    readonly property int transitionMs: elder ? 450 : 180
}
