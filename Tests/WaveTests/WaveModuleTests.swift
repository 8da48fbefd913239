import Testing
import Wave

@Suite struct WaveModuleTests {
    @Test func theModuleIsNamedWave() {
        #expect(WaveModule.name == "wave")
    }
}
