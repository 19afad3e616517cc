pragma ComponentBehavior: Bound
import QtQuick

// 审核建模: the enrolments waiting for a second operator (masked).
Item {
    id: screen
    objectName: "reviewScreen"
    Column {
        id: head
        width: parent.width
        spacing: Theme.gap / 2
        Title { width: parent.width; text: App.t("ui_review_title") }
        Body {
            objectName: "reviewMessage"
            visible: Review.message !== ""
            width: parent.width
            font.bold: true
            color: Review.messageError ? Theme.bad : Theme.good
            text: Review.message
        }
        Body {
            objectName: "reviewNone"
            visible: Review.items.length === 0
            width: parent.width
            text: App.t("ui_review_none")
        }
    }
    Flickable {
        anchors { left: parent.left; right: parent.right; top: head.bottom; topMargin: Theme.gap / 2; bottom: back.top; bottomMargin: Theme.gap / 2 }
        contentHeight: list.implicitHeight
        clip: true
        Column {
            id: list
            width: parent.width
            spacing: Theme.gap / 2
            Repeater {
                model: Review.items
                BigButton {
                    required property var modelData
                    objectName: "review_" + modelData.enrolment
                    width: list.width
                    text: App.tf("ui_review_row", {enrolment: modelData.enrolment, name: modelData.name, id: modelData.id})
                    subtext: App.tf("ui_review_row_sub", {frames: modelData.frames, by: modelData.by, when: modelData.when})
                    onClicked: Review.select(modelData.enrolment)
                }
            }
        }
    }
    BigButton {
        id: back
        objectName: "btnReviewMenu"
        anchors { left: parent.left; bottom: parent.bottom }
        width: (parent.width - Theme.gap) / 2
        text: App.t("ui_staff_menu")
        onClicked: Staff.showMenu()
    }
}
