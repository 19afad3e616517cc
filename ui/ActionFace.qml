pragma ComponentBehavior: Bound
import QtQuick

// A simple drawn face that shows the requested action (as in a mirror): eyes close for
// 眨眼, the mouth opens for 张嘴, the head turns or nods. It loops calmly.
Item {
    id: root
    property string action: ""
    Accessible.role: Accessible.Animation
    Accessible.name: action === "" ? App.t("ui_action_figure") : App.tf("ui_action_figure_named", {name: action})

    property real eye: 1.0      // 1 open .. 0 shut
    property real mouth: 0.0    // 0 closed .. 1 open
    property real turn: 0.0     // -1 (screen left) .. 1
    property real nod: 0.0      // 0 .. 1 (chin down)

    Rectangle {
        id: head
        width: root.height * 0.8
        height: root.height * 0.95
        radius: width / 2
        x: (root.width - width) / 2 + root.turn * root.width * 0.12
        y: (root.height - height) / 2 + root.nod * root.height * 0.06
        color: "#F2D2B6"
        border.color: Theme.border
        border.width: 3
        Repeater {
            model: 2
            Rectangle {
                required property int index
                width: head.width * 0.16
                height: Math.max(3, head.width * 0.12 * root.eye)
                radius: height / 2
                color: "#141414"
                x: head.width * (index === 0 ? 0.24 : 0.6) + root.turn * head.width * 0.08
                y: head.height * (0.36 + root.nod * 0.06) - height / 2
            }
        }
        Rectangle {
            width: head.width * 0.3
            height: Math.max(4, head.height * 0.18 * root.mouth)
            radius: Math.min(width, height) / 2
            color: root.mouth > 0.1 ? "#6B1A1A" : "#141414"
            x: (head.width - width) / 2 + root.turn * head.width * 0.08
            y: head.height * (0.7 + root.nod * 0.05)
        }
    }

    SequentialAnimation {
        running: root.action === "blink"
        loops: Animation.Infinite
        onStopped: root.eye = 1
        PauseAnimation { duration: 700 }
        NumberAnimation { target: root; property: "eye"; to: 0.0; duration: 180 }
        NumberAnimation { target: root; property: "eye"; to: 1.0; duration: 220 }
    }
    SequentialAnimation {
        running: root.action === "open_mouth"
        loops: Animation.Infinite
        onStopped: root.mouth = 0
        PauseAnimation { duration: 500 }
        NumberAnimation { target: root; property: "mouth"; to: 1.0; duration: 500 }
        PauseAnimation { duration: 600 }
        NumberAnimation { target: root; property: "mouth"; to: 0.0; duration: 500 }
    }
    SequentialAnimation {
        running: root.action === "turn_left" || root.action === "turn_right"
        loops: Animation.Infinite
        onStopped: root.turn = 0
        PauseAnimation { duration: 400 }
        // As in a mirror: the person's own left is the screen's left.
        NumberAnimation { target: root; property: "turn"; to: root.action === "turn_left" ? -1 : 1; duration: 900; easing.type: Easing.InOutQuad }
        PauseAnimation { duration: 500 }
        NumberAnimation { target: root; property: "turn"; to: 0; duration: 900; easing.type: Easing.InOutQuad }
    }
    SequentialAnimation {
        running: root.action === "nod"
        loops: Animation.Infinite
        onStopped: root.nod = 0
        PauseAnimation { duration: 400 }
        NumberAnimation { target: root; property: "nod"; to: 1.0; duration: 600; easing.type: Easing.InOutQuad }
        NumberAnimation { target: root; property: "nod"; to: 0.0; duration: 600; easing.type: Easing.InOutQuad }
    }
}
