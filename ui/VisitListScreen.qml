pragma ComponentBehavior: Bound
import QtQuick

// 上门认证名单: who to visit (suspended, overdue, never certified, due), most urgent first, with
// what the roster knows (address, phone, 联系人). Staff only (Visits: the logged-in operator).
Item {
    id: screen
    objectName: "visitListScreen"

    Column {
        id: top
        width: parent.width
        spacing: Theme.gap / 2
        Row {
            width: parent.width
            spacing: Theme.gap
            Title {
                id: title
                objectName: "visitsTitle"
                width: parent.width - menu.width - Theme.gap
                text: App.t("ui_visits_title")
            }
            BigButton {
                id: menu
                objectName: "btnVisitsMenu"
                visible: Staff.loggedIn
                anchors.verticalCenter: title.verticalCenter
                height: Theme.touch * 0.75
                fontSize: Theme.small
                text: App.t("ui_visits_menu")
                onClicked: Staff.showMenu()
            }
        }
        Body {
            objectName: "visitsCount"
            visible: Visits.loggedIn
            width: parent.width
            color: Theme.textSoft
            text: App.tf("ui_visits_count", {n: Visits.count}) + "    " + App.tf("ui_visits_operator", {name: Visits.operatorName})
        }
        Flow {
            visible: Visits.loggedIn && Visits.villages.length > 1
            width: parent.width
            spacing: Theme.gap / 2
            BigButton {
                objectName: "village_all"
                height: Theme.touch * 0.75
                fontSize: Theme.small
                text: App.t("ui_visits_all")
                selected: Visits.village === ""
                onClicked: Visits.setVillage("")
            }
            Repeater {
                model: Visits.villages
                BigButton {
                    required property string modelData
                    objectName: "village_" + modelData
                    height: Theme.touch * 0.75
                    fontSize: Theme.small
                    text: modelData
                    selected: Visits.village === modelData
                    onClicked: Visits.setVillage(modelData)
                }
            }
        }
        Body {
            objectName: "visitsEmpty"
            visible: !Visits.loggedIn || Visits.count === 0
            width: parent.width
            font.bold: true
            text: Visits.loggedIn ? App.t("ui_visits_empty") : App.t("ui_visits_need_login")
        }
    }

    ListView {
        id: list
        objectName: "visitList"
        anchors { left: parent.left; right: parent.right; top: top.bottom; bottom: parent.bottom; topMargin: Theme.gap / 2 }
        clip: true
        spacing: Theme.gap / 2
        model: Visits.rows
        boundsBehavior: Flickable.StopAtBounds
        delegate: Rectangle {
            id: row
            required property var modelData
            required property int index
            objectName: "visitRow_" + index
            width: list.width
            height: rowCol.implicitHeight + Theme.gap
            radius: Theme.radius
            color: rowArea.pressed ? Theme.pressed : Theme.panel
            border.color: Theme.border
            border.width: Math.max(2, 3 * Theme.f)
            Accessible.role: Accessible.Button
            Accessible.name: row.modelData.name + " " + row.modelData.urgencyLabel
            Accessible.onPressAction: Visits.pick(row.index)
            Column {
                id: rowCol
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap / 2 }
                spacing: 2 * Theme.f
                Row {
                    spacing: Theme.gap / 2
                    Rectangle {
                        anchors.verticalCenter: parent.verticalCenter
                        width: badge.implicitWidth + Theme.gap / 2
                        height: badge.implicitHeight + 6 * Theme.f
                        radius: Theme.radius / 2
                        color: row.modelData.urgency === "suspended" || row.modelData.urgency === "overdue" ? Theme.bad
                               : row.modelData.urgency === "never_certified" ? Theme.demo : Theme.primary
                        Text {
                            id: badge
                            anchors.centerIn: parent
                            text: row.modelData.urgencyLabel
                            font.family: Theme.family
                            font.pixelSize: Theme.small
                            font.bold: true
                            color: "#FFFFFF"
                        }
                    }
                    Text {
                        anchors.verticalCenter: parent.verticalCenter
                        text: row.modelData.name
                        font.family: Theme.family
                        font.pixelSize: Theme.body
                        font.bold: true
                        color: Theme.text
                    }
                    Text {
                        anchors.verticalCenter: parent.verticalCenter
                        text: row.modelData.id + "  " + row.modelData.village
                        font.family: Theme.family
                        font.pixelSize: Theme.small
                        color: Theme.textSoft
                    }
                }
                Text {
                    width: parent.width
                    text: row.modelData.line
                    font.family: Theme.family
                    font.pixelSize: Theme.small
                    color: Theme.text
                    wrapMode: Text.WordWrap
                }
                Text {
                    width: parent.width
                    text: row.modelData.contact
                    font.family: Theme.family
                    font.pixelSize: Theme.small
                    color: row.modelData.hasContact ? Theme.text : Theme.textSoft
                    wrapMode: Text.WordWrap
                }
                Text {
                    visible: row.modelData.lastVisit !== ""
                    width: parent.width
                    text: row.modelData.lastVisit
                    font.family: Theme.family
                    font.pixelSize: Theme.small
                    color: Theme.textSoft
                    wrapMode: Text.WordWrap
                }
            }
            MouseArea {
                id: rowArea
                anchors.fill: parent
                onClicked: Visits.pick(row.index)
                Accessible.role: Accessible.Button
                Accessible.name: row.modelData.name
            }
        }
    }
}
