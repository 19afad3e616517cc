pragma ComponentBehavior: Bound
import QtQuick

// 上门认证: one person — what the roster knows, certify now (本人 / 亲属协助), 不刷脸认证, and the
// visit's outcome with a note (不在家 …). Staff only; everything is Visits' (no rules here).
Flickable {
    id: screen
    objectName: "visitPersonScreen"
    contentHeight: col.implicitHeight + Theme.gap
    clip: true
    boundsBehavior: Flickable.StopAtBounds
    readonly property int cols: Theme.portrait ? 1 : 2
    readonly property real bar: Math.max(6, 8 * Theme.f)  // the scroll indicator's lane on the right
    readonly property real cellW: (width - bar * 2 - Theme.gap / 2 * (cols - 1)) / cols

    Column {
        id: col
        width: screen.width - screen.bar * 2
        spacing: Theme.gap / 2
        Row {
            spacing: Theme.gap
            Title {
                id: name
                objectName: "visitName"
                text: Visits.person.name || ""
            }
            Body {
                anchors.baseline: name.baseline
                text: (Visits.person.id || "") + "  " + (Visits.person.village || "")
                color: Theme.textSoft
            }
        }
        Rectangle {
            width: parent.width
            height: info.implicitHeight + Theme.gap
            radius: Theme.radius
            color: Theme.panel
            border.color: Theme.border
            border.width: Math.max(2, 3 * Theme.f)
            Column {
                id: info
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap / 2 }
                spacing: 2 * Theme.f
                Body {
                    objectName: "visitStatus"
                    width: parent.width
                    font.bold: true
                    color: Visits.person.urgency === "suspended" || Visits.person.urgency === "overdue" ? Theme.bad : Theme.text
                    text: (Visits.person.urgencyLabel || Visits.person.status || "") + "  " + (Visits.person.when || "")
                }
                Body {
                    width: parent.width
                    font.pixelSize: Theme.small
                    text: Visits.person.statusMessage || ""
                }
                Body {
                    objectName: "visitContact"
                    width: parent.width
                    font.pixelSize: Theme.small
                    text: Visits.person.contact || ""
                }
                Body {
                    objectName: "visitLast"
                    visible: text !== ""
                    width: parent.width
                    font.pixelSize: Theme.small
                    color: Theme.textSoft
                    text: Visits.person.lastVisit || ""
                }
            }
        }
        Body {
            objectName: "visitRefusal"
            visible: text !== ""
            width: parent.width
            font.bold: true
            color: Theme.bad
            text: Visits.person.refusal || ""
        }
        Grid {
            width: parent.width
            columns: screen.cols
            spacing: Theme.gap / 2
            BigButton {
                objectName: "btnVisitSelf"
                width: screen.cellW
                primary: true
                enabled2: Visits.person.canCertify === true
                text: App.t("ui_visit_certify_self")
                onClicked: Visits.certify("self")
            }
            BigButton {
                objectName: "btnVisitProxy"
                width: screen.cellW
                enabled2: Visits.person.canCertify === true
                text: App.t("ui_visit_certify_proxy")
                onClicked: Visits.certify("proxy")
            }
            BigButton {
                objectName: "btnVisitFallback"
                width: screen.cellW
                enabled2: Visits.person.canFallback === true
                text: App.t("ui_visit_fallback")
                subtext: App.t("ui_visit_fallback_sub")
                onClicked: Visits.fallbackNow()
            }
            BigButton {
                objectName: "btnVisitBack"
                width: screen.cellW
                text: App.t("ui_visit_back_list")
                onClicked: Visits.backToList()
            }
        }
        Title {
            width: parent.width
            font.pixelSize: Theme.body
            text: App.t("ui_visit_mark_title")
        }
        VisitField {
            width: parent.width
            inputName: "visitNote"
            text: Visits.note
            label: App.t("ui_visit_note")
            placeholder: App.t("ui_visit_note_placeholder")
            maximumLength: 200
            onEdited: (value) => Visits.setNote(value)
        }
        Grid {
            width: parent.width
            columns: Theme.portrait ? 2 : 4
            spacing: Theme.gap / 2
            Repeater {
                model: Visits.outcomes
                BigButton {
                    required property var modelData
                    objectName: "mark_" + modelData.key
                    width: (col.width - Theme.gap / 2 * ((Theme.portrait ? 2 : 4) - 1)) / (Theme.portrait ? 2 : 4)
                    fontSize: Theme.small
                    text: modelData.label
                    onClicked: Visits.mark(modelData.key)
                }
            }
        }
        Body {
            objectName: "visitMessage"
            visible: text !== ""
            width: parent.width
            font.bold: true
            color: Visits.messageError ? Theme.bad : Theme.good
            text: Visits.message
        }
    }

    Rectangle {  // the page scrolls: where it is
        parent: screen
        visible: screen.contentHeight > screen.height
        anchors.right: parent.right
        y: screen.visibleArea.yPosition * screen.height
        width: screen.bar
        height: screen.visibleArea.heightRatio * screen.height
        radius: width / 2
        color: Theme.textSoft
    }
}
