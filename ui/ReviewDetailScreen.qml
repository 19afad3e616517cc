pragma ComponentBehavior: Bound
import QtQuick

// 审核一条建模: its frames (from memory, when this terminal still holds them), its record,
// approve, or reject with a reason (one of three, or typed on a keyboard).
Item {
    id: screen
    objectName: "reviewDetailScreen"
    readonly property int enrolment: Review.selected.enrolment || 0
    readonly property int frames: Review.selected.inMemory || 0
    readonly property bool wide: !Theme.portrait

    Column {
        id: col
        width: parent.width
        spacing: Theme.gap / 2
        Title { width: parent.width; text: App.tf("ui_review_detail_title", {enrolment: screen.enrolment}) }
        Body {
            objectName: "reviewInfo"
            width: parent.width
            font.pixelSize: Theme.small
            text: App.tf("ui_review_detail_info", {name: Review.selected.name || "", id: Review.selected.id || "",
                         frames: Review.selected.frames || 0, by: Review.selected.by || "",
                         consent_by: Review.selected.consentBy || "", when: Review.selected.when || ""})
        }
        // the head poses the chosen frames span (角度范围 左 7° — 右 9°); narrow: the reviewer looks closer
        Body {
            objectName: "reviewPoseSpread"
            visible: (Review.selected.poseSpread || "") !== ""
            width: parent.width
            font.pixelSize: Theme.small
            font.bold: Review.selected.poseNarrow || false
            color: Review.selected.poseNarrow ? Theme.demo : Theme.textSoft
            text: Review.selected.poseSpread || ""
        }
        Body {
            objectName: "reviewMessage"
            visible: Review.message !== ""
            width: parent.width
            font.bold: true
            color: Review.messageError ? Theme.bad : Theme.good
            text: Review.message
        }
        // the duplicate-face check (kiosk.dupface): its own block
        DupFaceWarning { id: dup; width: parent.width }
        Body {
            visible: screen.frames === 0 && (!dup.visible || Theme.portrait)  // dupface: on a laptop the warning takes its place
            width: parent.width
            font.pixelSize: Theme.small
            color: Theme.textSoft
            text: App.t("ui_review_no_frames")
        }
        Flow {
            id: thumbs
            objectName: "reviewThumbs"
            width: parent.width
            spacing: Theme.gap / 3
            readonly property int perRow: Math.max(1, Theme.portrait ? Math.ceil(screen.frames / 2) : screen.frames)
            readonly property real side: Math.max(0, Math.min((width - spacing * (perRow - 1)) / perRow, screen.height * (screen.wide ? 0.2 : 0.12),
                                                     room / Math.ceil(screen.frames / perRow) - spacing))
            // dupface: the room the other parts of the column leave above the buttons (the warning and
            // the pose line can fill an elder-mode laptop screen): the thumbnails shrink to it
            readonly property real room: {
                let used = 0, shown = 0
                for (let i = 0; i < col.children.length; ++i) {
                    const c = col.children[i]
                    if (c !== thumbs && c.visible && c.height > 0) { used += c.height; shown += 1 }
                }
                return screen.height - bottomRow.height - Theme.gap - used - col.spacing * (shown + 1)
            }
            Repeater {
                model: screen.frames
                EnrolFrame {
                    required property int index
                    objectName: "reviewThumb_" + index
                    width: thumbs.side
                    height: thumbs.side
                    source: Review.frames
                    enrolment: screen.enrolment
                    frameIndex: index
                }
            }
        }
        Body { visible: !Review.dupConfirmed; width: parent.width; font.pixelSize: Theme.small; font.bold: true; text: App.t("ui_review_reason_title") }
        Grid {
            id: reasons
            visible: !Review.dupConfirmed  // dupface: approving a flagged one, the reasons to approve take the room
            width: parent.width
            columns: screen.wide ? 4 : 2
            spacing: Theme.gap / 3
            readonly property real cellW: (width - spacing * (columns - 1)) / columns
            BigButton { objectName: "reject_blurry"; width: reasons.cellW; fontSize: Theme.small; text: App.t("ui_review_reason_blurry"); onClicked: Review.rejectWith("blurry") }
            BigButton { objectName: "reject_not_person"; width: reasons.cellW; fontSize: Theme.small; text: App.t("ui_review_reason_not_person"); onClicked: Review.rejectWith("not_person") }
            BigButton { objectName: "reject_dark"; width: reasons.cellW; fontSize: Theme.small; text: App.t("ui_review_reason_dark"); onClicked: Review.rejectWith("dark") }
            Rectangle {
                width: reasons.cellW
                height: Theme.touch
                radius: Theme.radius
                color: Theme.panel
                border.color: Theme.border
                border.width: Math.max(2, 3 * Theme.f)
                TextInput {
                    id: typed
                    objectName: "rejectTyped"
                    anchors { fill: parent; margins: Theme.gap / 2 }
                    verticalAlignment: TextInput.AlignVCenter
                    font.family: Theme.family
                    font.pixelSize: Theme.small
                    color: Theme.text
                    clip: true
                    maximumLength: 100
                    inputMethodHints: Qt.ImhSensitiveData  // the on-screen 拼音 keyboard learns nothing from it
                    onAccepted: Review.rejectTyped(text)
                    Accessible.role: Accessible.EditableText
                    Accessible.name: App.t("ui_review_reason_typed")
                }
                Text {
                    visible: typed.text === "" && !typed.activeFocus
                    anchors { fill: parent; margins: Theme.gap / 2 }
                    verticalAlignment: Text.AlignVCenter
                    text: App.t("ui_review_reason_typed")
                    font.family: Theme.family
                    font.pixelSize: Theme.small
                    color: "#5A5A5A"
                    elide: Text.ElideRight
                }
            }
        }
    }
    Row {
        id: bottomRow
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        spacing: Theme.gap
        BigButton {
            objectName: "btnReviewBack"
            width: (parent.width - 2 * Theme.gap) / 3
            text: App.t("ui_review_back")
            onClicked: Review.backToList()
        }
        BigButton {
            objectName: "btnReject"
            width: (parent.width - 2 * Theme.gap) / 3
            text: App.t("ui_review_reject")
            onClicked: Review.rejectTyped(typed.text)
        }
        BigButton {
            objectName: "btnApprove"
            width: (parent.width - 2 * Theme.gap) / 3
            primary: true
            text: App.t("ui_review_approve")
            onClicked: Review.approve()
        }
    }
}
