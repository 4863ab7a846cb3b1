//! The doctors area's commands (`ws.doctors()`): each a line over the core. Off the main thread
//! like every command (`#[tauri::command(async)]`).

use crate::AppState;
use dentpro_core::Result;
use dentpro_core::doctors::{
    Chair, ChairId, ChairInput, ChairUpdate, DayAvailability, DayHours, Doctor, DoctorCandidate,
    DoctorDetail, DoctorId, DoctorInput, DoctorUpdate, Leave, LeaveId, LeaveInput,
};
use tauri::State;

/// This area's commands, every one (a test in `commands/mod.rs` checks): `every_command!`
/// gathers them for `specta_builder()`.
macro_rules! commands {
    ($($state:tt)*) => {
        $crate::commands::gather!(@answer $($state)*
            list_doctors,
            doctor_detail,
            doctor_availability,
            doctor_candidates,
            register_doctor,
            update_doctor,
            set_doctor_hours,
            add_doctor_leave,
            cancel_doctor_leave,
            list_chairs,
            add_chair,
            update_chair,
        )
    };
}
pub(crate) use commands;

#[tauri::command(async)]
#[specta::specta]
pub fn list_doctors(state: State<'_, AppState>) -> Result<Vec<Doctor>> {
    state.with_session(|ws, sid| ws.doctors().list(sid))
}

#[tauri::command(async)]
#[specta::specta]
pub fn doctor_detail(state: State<'_, AppState>, doctor_id: DoctorId) -> Result<DoctorDetail> {
    state.with_session(|ws, sid| ws.doctors().get(sid, &doctor_id))
}

#[tauri::command(async)]
#[specta::specta]
pub fn doctor_availability(
    state: State<'_, AppState>,
    doctor_id: DoctorId,
    date: String,
) -> Result<DayAvailability> {
    state.with_session(|ws, sid| ws.doctors().availability(sid, &doctor_id, &date))
}

#[tauri::command(async)]
#[specta::specta]
pub fn doctor_candidates(state: State<'_, AppState>) -> Result<Vec<DoctorCandidate>> {
    state.with_session(|ws, sid| ws.doctors().candidates(sid))
}

#[tauri::command(async)]
#[specta::specta]
pub fn register_doctor(state: State<'_, AppState>, input: DoctorInput) -> Result<Doctor> {
    state.with_session(|ws, sid| ws.doctors().register(sid, &input))
}

#[tauri::command(async)]
#[specta::specta]
pub fn update_doctor(state: State<'_, AppState>, doctor_id: DoctorId, input: DoctorUpdate) -> Result<Doctor> {
    state.with_session(|ws, sid| ws.doctors().update(sid, &doctor_id, &input))
}

#[tauri::command(async)]
#[specta::specta]
pub fn set_doctor_hours(
    state: State<'_, AppState>,
    doctor_id: DoctorId,
    week: Vec<DayHours>,
) -> Result<Vec<DayHours>> {
    state.with_session(|ws, sid| ws.doctors().set_hours(sid, &doctor_id, &week))
}

#[tauri::command(async)]
#[specta::specta]
pub fn add_doctor_leave(state: State<'_, AppState>, doctor_id: DoctorId, input: LeaveInput) -> Result<Leave> {
    state.with_session(|ws, sid| ws.doctors().add_leave(sid, &doctor_id, &input))
}

#[tauri::command(async)]
#[specta::specta]
pub fn cancel_doctor_leave(
    state: State<'_, AppState>,
    doctor_id: DoctorId,
    leave_id: LeaveId,
) -> Result<Leave> {
    state.with_session(|ws, sid| ws.doctors().cancel_leave(sid, &doctor_id, &leave_id))
}

#[tauri::command(async)]
#[specta::specta]
pub fn list_chairs(state: State<'_, AppState>) -> Result<Vec<Chair>> {
    state.with_session(|ws, sid| ws.doctors().chairs(sid))
}

#[tauri::command(async)]
#[specta::specta]
pub fn add_chair(state: State<'_, AppState>, input: ChairInput) -> Result<Chair> {
    state.with_session(|ws, sid| ws.doctors().add_chair(sid, &input))
}

#[tauri::command(async)]
#[specta::specta]
pub fn update_chair(state: State<'_, AppState>, chair_id: ChairId, input: ChairUpdate) -> Result<Chair> {
    state.with_session(|ws, sid| ws.doctors().update_chair(sid, &chair_id, &input))
}
