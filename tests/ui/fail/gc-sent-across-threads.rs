use pygc::Gc;

fn main() {
    let g = Gc::new(1_i32);
    std::thread::spawn(move || drop(g));
}
