use pygc::Gc;

fn main() {
    let g = Gc::new(1_i32);
    let shared = &g;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let _value: i32 = **shared;
        });
    });
}
