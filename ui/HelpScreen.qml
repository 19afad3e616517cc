import QtQuick

Item {
    objectName: "helpScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: "怎么认证" }
        Body { width: parent.width; text: "1. 输入身份证号码，核对姓名。" }
        Body { width: parent.width; text: "2. 看着屏幕，把脸放进白框里。" }
        Body { width: parent.width; text: "3. 听提示慢慢眨眼、转头或张嘴，不着急。" }
        Body { width: parent.width; color: Theme.textSoft; text: "不想刷脸或刷不过，可以请村协理员、工作人员办理线下辅助认证；行动不便的可以预约上门认证。" }
        Row {
            spacing: Theme.gap
            Body { anchors.verticalCenter: parent.verticalCenter; text: "音量 " + Math.round(App.volume * 100) + "%" }
            BigButton { objectName: "btnVolDown"; text: "小一点"; onClicked: App.volumeDown() }
            BigButton { objectName: "btnVolUp"; text: "大一点"; onClicked: App.volumeUp() }
        }
        BigButton {
            objectName: "btnHelpHome"
            primary: true
            text: "返回首页"
            onClicked: KioskFlow.home()
        }
    }
}
